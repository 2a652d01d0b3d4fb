package store_test

import (
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func starts(slots []models.Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.StartsAt.Format(time.RFC3339)
	}
	return out
}

func everyDayRule(start, end string) []models.ScheduleRule {
	var rs []models.ScheduleRule
	for d := range 7 {
		rs = append(rs, models.ScheduleRule{Weekday: d, Start: start, End: end})
	}
	return rs
}

// TestSlotsAcrossDaylightSaving checks that a 09:00 local slot stays 09:00
// local on both sides of each change, in two zones.
func TestSlotsAcrossDaylightSaving(t *testing.T) {
	db := modeltest.NewPostgres(t)
	clock := &modeltest.Clock{}
	clock.Set(mustTime(t, "2026-01-01T00:00:00Z"))
	p := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
	ctx := t.Context()

	cases := []struct {
		zone     string
		from, to string
		want     []string
	}{
		// New York: EST (UTC-5) until 8 March 2026, EDT (UTC-4) after, EST again from 1 November.
		{"America/New_York", "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z",
			[]string{"2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"}},
		{"America/New_York", "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z",
			[]string{"2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"}},
		// Berlin: CET (UTC+1) until 29 March 2026, CEST (UTC+2) until 25 October.
		{"Europe/Berlin", "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z",
			[]string{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"}},
		{"Europe/Berlin", "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z",
			[]string{"2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"}},
	}
	for i, c := range cases {
		t.Run(c.zone+"/"+c.from[:10], func(t *testing.T) {
			doc := modeltest.MustUser(t, p, models.RoleDoctor, "dst"+string(rune('a'+i))+"@example.com")
			if err := p.Schedules.SeedSchedule(ctx, doc.ID, models.ScheduleInput{TimeZone: c.zone, SlotMinutes: 60, Rules: everyDayRule("09:00", "10:00")}); err != nil {
				t.Fatal(err)
			}
			slots, err := p.Schedules.FreeSlots(ctx, doc.ID, mustTime(t, c.from), mustTime(t, c.to))
			if err != nil {
				t.Fatal(err)
			}
			got := starts(slots)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k := range got {
				if got[k] != c.want[k] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}

	t.Run("missing and repeated local hours", func(t *testing.T) {
		doc := modeltest.MustUser(t, p, models.RoleDoctor, "night@example.com")
		// 01:00–03:00 every day, 30-minute slots, in New York.
		if err := p.Schedules.SeedSchedule(ctx, doc.ID, models.ScheduleInput{TimeZone: "America/New_York", SlotMinutes: 30, Rules: everyDayRule("01:00", "03:00")}); err != nil {
			t.Fatal(err)
		}
		// 8 March: 02:00–02:59 does not exist; 01:00 and 01:30 EST remain.
		spring, err := p.Schedules.FreeSlots(ctx, doc.ID, mustTime(t, "2026-03-08T05:00:00Z"), mustTime(t, "2026-03-08T12:00:00Z"))
		if err != nil {
			t.Fatal(err)
		}
		if got := starts(spring); len(got) != 2 || got[0] != "2026-03-08T06:00:00Z" || got[1] != "2026-03-08T06:30:00Z" {
			t.Fatalf("spring forward: %v", got)
		}
		// 1 November: 01:00–01:59 happens twice; each wall time appears once.
		fall, err := p.Schedules.FreeSlots(ctx, doc.ID, mustTime(t, "2026-11-01T04:00:00Z"), mustTime(t, "2026-11-01T12:00:00Z"))
		if err != nil {
			t.Fatal(err)
		}
		if got := starts(fall); len(got) != 4 {
			t.Fatalf("fall back: %v, want 01:00, 01:30, 02:00, 02:30 local once each", got)
		}
	})
}

// storeMustBeUnavailable runs each call (on a closed database) and wants
// unavailable from every one: never internal, forbidden or not_found.
func storeMustBeUnavailable(t *testing.T, calls map[string]func() error) {
	t.Helper()
	for name, call := range calls {
		if err := call(); err == nil || models.ErrorCode(err) != models.EUNAVAILABLE {
			t.Errorf("%s on a closed database: %v (code %s), want unavailable", name, err, models.ErrorCode(err))
		}
	}
}
