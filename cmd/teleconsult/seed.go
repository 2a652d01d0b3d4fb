package main

import (
	"context"
	"fmt"
	"io"

	"teleconsult/models"
)

// Demo accounts. The README lists them; they exist only where `seed` ran.
const (
	demoAdminEmail      = "admin@demo.teleconsult.app"
	demoAdminPassword   = "DemoAdmin!2026"
	demoDoctorPassword  = "DemoDoctor!2026"
	demoPatientPassword = "DemoPatient!2026"
)

// demoRule is one weekly opening: weekday 0 = Sunday, times local "HH:MM".
type demoRule struct {
	Weekday    int
	Start, End string
}

// demoSchedule is a doctor's weekly availability.
type demoSchedule struct {
	TimeZone    string
	SlotMinutes int
	Rules       []demoRule
}

type demoDoctor struct {
	Email, Name, Specialty, Bio string
	Schedule                    demoSchedule
}

func everyDay(start, end string, days ...int) []demoRule {
	var rs []demoRule
	for _, d := range days {
		rs = append(rs, demoRule{Weekday: d, Start: start, End: end})
	}
	return rs
}

var demoDoctors = []demoDoctor{
	{
		Email: "alice.chen@demo.teleconsult.app", Name: "Dr. Alice Chen", Specialty: "Cardiology",
		Bio:      "Cardiologist with fifteen years of practice in heart rhythm disorders and hypertension.",
		Schedule: demoSchedule{TimeZone: "Europe/Berlin", SlotMinutes: 30, Rules: everyDay("00:00", "24:00", 0, 1, 2, 3, 4, 5, 6)},
	},
	{
		Email: "omar.haddad@demo.teleconsult.app", Name: "Dr. Omar Haddad", Specialty: "Dermatology",
		Bio:      "Dermatologist focused on eczema, acne and skin cancer screening.",
		Schedule: demoSchedule{TimeZone: "America/New_York", SlotMinutes: 20, Rules: everyDay("09:00", "17:00", 1, 2, 3, 4, 5)},
	},
	{
		Email: "sofia.rossi@demo.teleconsult.app", Name: "Dr. Sofia Rossi", Specialty: "General practice",
		Bio: "Family doctor for adults and children; first stop for any health question.",
		Schedule: demoSchedule{TimeZone: "Asia/Shanghai", SlotMinutes: 15,
			Rules: append(everyDay("08:00", "12:00", 1, 2, 3, 4, 5, 6), everyDay("14:00", "18:00", 1, 2, 3, 4, 5, 6)...)},
	},
}

var demoPatients = []struct{ Email, Name, TimeZone string }{
	{"pat.kim@demo.teleconsult.app", "Pat Kim", "Europe/London"},
	{"sam.lee@demo.teleconsult.app", "Sam Lee", "America/Los_Angeles"},
}

// seedDemo creates the demo accounts and schedules. Existing accounts are
// left as they are, so running it twice changes nothing.
func seedDemo(ctx context.Context, a *app, out io.Writer) error {
	users := a.users
	create := func(in models.CreateUserInput) (models.User, bool, error) {
		u, err := users.Create(ctx, models.SystemActor, in)
		if models.ErrorCode(err) == models.ECONFLICT {
			return models.User{}, false, nil
		}
		return u, err == nil, err
	}
	if _, _, err := create(models.CreateUserInput{Email: demoAdminEmail, Password: demoAdminPassword, Name: "Demo Admin", Role: models.RoleAdmin}); err != nil {
		return err
	}
	for _, d := range demoDoctors {
		u, created, err := create(models.CreateUserInput{Email: d.Email, Password: demoDoctorPassword, Name: d.Name, Role: models.RoleDoctor,
			TimeZone: d.Schedule.TimeZone, Specialty: d.Specialty, Bio: d.Bio})
		if err != nil {
			return err
		}
		if created {
			if err := a.seedSchedule(ctx, u.ID, d.Schedule); err != nil {
				return fmt.Errorf("schedule for %s: %w", d.Email, err)
			}
		}
	}
	for _, p := range demoPatients {
		if _, _, err := create(models.CreateUserInput{Email: p.Email, Password: demoPatientPassword, Name: p.Name, Role: models.RolePatient, TimeZone: p.TimeZone}); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "Demo accounts (change or remove them before going live):\n")
	fmt.Fprintf(out, "  admin    %s / %s\n", demoAdminEmail, demoAdminPassword)
	for _, d := range demoDoctors {
		fmt.Fprintf(out, "  doctor   %s / %s  (%s)\n", d.Email, demoDoctorPassword, d.Specialty)
	}
	for _, p := range demoPatients {
		fmt.Fprintf(out, "  patient  %s / %s\n", p.Email, demoPatientPassword)
	}
	return nil
}
