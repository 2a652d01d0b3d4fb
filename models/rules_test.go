package models_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"teleconsult/models"
)

// ---- validate.go ----

func TestValidateFieldNames(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want map[string]any
	}{
		{"schedule", models.ScheduleInput{
			TimeZone: "Mars/Olympus_Mons", SlotMinutes: 3,
			Rules: []models.ScheduleRule{{Weekday: 1, Start: "09:00", End: "12:00"}, {Weekday: 7, Start: "9:00", End: "25:00"}},
		}, map[string]any{
			"time_zone":        "must be an IANA time zone such as Europe/Berlin",
			"slot_minutes":     "must be at least 5",
			"rules[1].weekday": "must be at most 6",
			"rules[1].start":   "must be a time of day as HH:MM",
			"rules[1].end":     "must be a time of day as HH:MM",
		}},
		{"schedule missing times", models.ScheduleInput{
			TimeZone: "UTC", SlotMinutes: 300, Rules: []models.ScheduleRule{{Weekday: -1}},
		}, map[string]any{
			"slot_minutes":     "must be at most 240",
			"rules[0].weekday": "must be at least 0",
			"rules[0].start":   "is required",
			"rules[0].end":     "is required",
		}},
		{"too many rules", models.ScheduleInput{
			TimeZone: "UTC", SlotMinutes: 30, Rules: make([]models.ScheduleRule, 201),
		}, map[string]any{"rules": "must be at most 200"}},
		{"register", models.RegisterInput{Email: "nope", Password: "short", TimeZone: "Local"}, map[string]any{
			"email":     "must be an email address",
			"name":      "is required",
			"time_zone": "must be an IANA time zone such as Europe/Berlin",
		}},
		{"announcement", models.AnnouncementInput{Title: strings.Repeat("t", 201), Body: "\xff\xfe", Audience: "admins"}, map[string]any{
			"title":    "must be at most 200 characters",
			"body":     "must be valid UTF-8",
			"audience": "must be one of: all patients doctors",
		}},
		{"book", models.BookInput{DoctorID: strings.Repeat("d", 65)}, map[string]any{
			"doctor_id": "must be at most 64 characters",
			"starts_at": "is required",
		}},
		{"diagnosis", models.DiagnosisInput{}, map[string]any{"summary": "is required"}},
		{"send", models.SendInput{AppointmentID: "a", ClientMsgID: "c", Text: "\xff"}, map[string]any{"text": "must be valid UTF-8"}},
		{"admin update", models.AdminUpdateUserInput{Role: ptr(models.Role("root")), Name: ptr("")}, map[string]any{
			"role": "must be one of: patient doctor admin",
			"name": "must be at least 1 characters",
		}},
		{"custom tags", taggedInput{ID: "x", Items: nil, Code: "abc", NoName: "toolong"}, map[string]any{
			"id":     "must be an id",
			"items":  "must be at least 1",
			"code":   "is invalid (len)",
			"NoName": "must be at most 3 characters",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := invalidFields(t, models.Validate(c.in))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("fields\n got %#v\nwant %#v", got, c.want)
			}
		})
	}
}

type taggedInput struct {
	ID     string   `field:"id" validate:"uuid"`
	Items  []string `field:"items" validate:"min=1"`
	Code   string   `field:"code" validate:"len=2"`
	NoName string   `field:"-" validate:"max=3"`
}

func ptr[T any](v T) *T { return &v }

func TestValidateAccepts(t *testing.T) {
	for _, in := range []any{
		models.ScheduleInput{TimeZone: "Europe/Berlin", SlotMinutes: 30, Rules: []models.ScheduleRule{{Weekday: 0, Start: "00:00", End: "24:00"}}},
		models.RegisterInput{Email: "a@example.com", Password: "12345678", Name: "A"},
		models.AnnouncementInput{Title: "t", Body: "b", Audience: models.AudienceAll},
		models.CreateUserInput{Email: "d@example.com", Password: "12345678", Name: "D", Role: models.RoleDoctor, Specialty: "GP"},
		models.UpdateProfileInput{},
		&models.LoginInput{Email: "a@example.com", Password: "x"},
	} {
		if err := models.Validate(in); err != nil {
			t.Errorf("Validate(%T) = %v", in, err)
		}
	}
	// A doctor needs a specialty.
	fields := invalidFields(t, models.Validate(models.CreateUserInput{Email: "d@example.com", Password: "12345678", Name: "D", Role: models.RoleDoctor}))
	if _, ok := fields["specialty"]; !ok || len(fields) != 1 {
		t.Errorf("doctor without specialty: %v", fields)
	}
}

func TestValidateNotAStruct(t *testing.T) {
	for _, in := range []any{42, nil, "x"} {
		e := domainErr(t, models.Validate(in))
		if e.Code != models.EINVALID || e.Details != nil {
			t.Errorf("Validate(%v) = %#v", in, e)
		}
	}
}

func TestValidTimeZone(t *testing.T) {
	cases := map[string]bool{"": false, "Local": false, "UTC": true, "Europe/Berlin": true, "Nowhere/Land": false, "../etc": false}
	for in, want := range cases {
		if got := models.ValidTimeZone(in); got != want {
			t.Errorf("ValidTimeZone(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseClock(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"00:00", 0, true}, {"09:30", 570, true}, {"23:59", 1439, true}, {"24:00", 1440, true},
		{"24:01", 0, false}, {"25:00", 0, false}, {"12:60", 0, false}, {"9:00", 0, false},
		{"09-00", 0, false}, {"0a:00", 0, false}, {"09:0b", 0, false}, {"", 0, false}, {"09:000", 0, false},
	}
	for _, c := range cases {
		got, err := models.ParseClock(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// ---- schedule.go ----

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)
	for _, in := range []string{"2026-03-08T09:00:00Z", "2026-03-08T10:00:00+01:00", "  2026-03-08T04:00:00-05:00\n"} {
		got, err := models.ParseTime("starts_at", in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2026-03-08 09:00", "2026-03-08", "tomorrow"} {
		got, err := models.ParseTime("ends_at", in)
		fields := invalidFields(t, err)
		if !got.IsZero() || fields["ends_at"] == nil || len(fields) != 1 {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, fields)
		}
	}
}

func TestValidateRules(t *testing.T) {
	r := func(day int, start, end string) models.ScheduleRule {
		return models.ScheduleRule{Weekday: day, Start: start, End: end}
	}
	cases := []struct {
		name  string
		rules []models.ScheduleRule
		want  map[string]any // nil: valid
	}{
		{"none", nil, nil},
		{"touching", []models.ScheduleRule{r(1, "09:00", "12:00"), r(1, "12:00", "13:00"), r(1, "13:00", "24:00")}, nil},
		{"same hours, other days", []models.ScheduleRule{r(1, "09:00", "12:00"), r(2, "09:00", "12:00")}, nil},
		{"end before start", []models.ScheduleRule{r(1, "12:00", "09:00")}, map[string]any{"rules[0].end": "must be after start"}},
		{"empty span", []models.ScheduleRule{r(3, "10:00", "10:00")}, map[string]any{"rules[0].end": "must be after start"}},
		{"starts at midnight end", []models.ScheduleRule{r(3, "24:00", "24:00")}, map[string]any{"rules[0].end": "must be after start"}},
		{"overlap, listed in order", []models.ScheduleRule{r(1, "09:00", "12:00"), r(1, "11:00", "13:00")},
			map[string]any{"rules[1]": "overlaps rules[0] on the same weekday"}},
		{"overlap, listed out of order", []models.ScheduleRule{r(5, "11:00", "13:00"), r(2, "08:00", "09:00"), r(5, "09:00", "12:00")},
			map[string]any{"rules[0]": "overlaps rules[2] on the same weekday"}},
		{"contained", []models.ScheduleRule{r(0, "08:00", "18:00"), r(0, "09:00", "10:00")},
			map[string]any{"rules[1]": "overlaps rules[0] on the same weekday"}},
		{"two inside one long rule", []models.ScheduleRule{r(1, "08:00", "18:00"), r(1, "09:00", "10:00"), r(1, "11:00", "12:00")},
			map[string]any{"rules[1]": "overlaps rules[0] on the same weekday", "rules[2]": "overlaps rules[0] on the same weekday"}},
		{"bad and overlapping together", []models.ScheduleRule{r(4, "10:00", "09:00"), r(4, "08:00", "12:00"), r(4, "11:00", "12:30")},
			map[string]any{"rules[0].end": "must be after start", "rules[2]": "overlaps rules[1] on the same weekday"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := models.ValidateRules(c.rules)
			if c.want == nil {
				if err != nil {
					t.Fatalf("ValidateRules = %v", err)
				}
				return
			}
			if got := invalidFields(t, err); !reflect.DeepEqual(got, c.want) {
				t.Errorf("fields\n got %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestScheduleCovers(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	sc := models.Schedule{TimeZone: "Europe/Berlin", SlotMinutes: 30, Rules: []models.ScheduleRule{
		{Weekday: 1, Start: "09:00", End: "12:00"},
		{Weekday: 5, Start: "20:00", End: "24:00"},
	}}
	mon := func(h, m int) time.Time { return time.Date(2026, 3, 9, h, m, 0, 0, berlin) } // a Monday
	fri := func(h, m int) time.Time { return time.Date(2026, 3, 13, h, m, 0, 0, berlin) }
	cases := []struct {
		name       string
		start, end time.Time
		want       bool
	}{
		{"first slot", mon(9, 0), mon(9, 30), true},
		{"last slot", mon(11, 30), mon(12, 0), true},
		{"whole rule", mon(9, 0), mon(12, 0), true},
		{"runs past the end", mon(11, 45), mon(12, 15), false},
		{"starts before", mon(8, 45), mon(9, 15), false},
		{"other weekday", mon(9, 0).AddDate(0, 0, 1), mon(9, 30).AddDate(0, 0, 1), false},
		{"given in UTC", mon(9, 0).UTC(), mon(9, 30).UTC(), true},
		{"until midnight", fri(23, 30), fri(23, 30).Add(30 * time.Minute), true},
		{"past midnight", fri(23, 45), fri(23, 45).Add(30 * time.Minute), false},
	}
	for _, c := range cases {
		if got := sc.Covers(c.start, c.end); got != c.want {
			t.Errorf("%s: Covers = %v, want %v", c.name, got, c.want)
		}
	}
	bad := sc
	bad.TimeZone = "Nowhere/Land"
	if bad.Covers(mon(9, 0), mon(9, 30)) {
		t.Error("Covers with an unknown zone")
	}
}

func TestScheduleGrid(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	sc := models.Schedule{TimeZone: "Europe/Berlin", SlotMinutes: 30, Rules: []models.ScheduleRule{
		{Weekday: 3, Start: "14:00", End: "15:15"}, // Wednesday: two slots, 15 minutes left over
		{Weekday: 1, Start: "09:00", End: "10:00"}, // Monday
	}}
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, berlin).UTC() }
	slot := func(s time.Time) models.Slot { return models.Slot{StartsAt: s, EndsAt: s.Add(30 * time.Minute)} }

	week := sc.Grid(at(9, 0, 0), at(16, 0, 0))
	want := []models.Slot{slot(at(9, 9, 0)), slot(at(9, 9, 30)), slot(at(11, 14, 0)), slot(at(11, 14, 30))}
	if !reflect.DeepEqual(week, want) {
		t.Errorf("week\n got %v\nwant %v", week, want)
	}
	for _, s := range week {
		if s.StartsAt.Location() != time.UTC {
			t.Errorf("slot %v not in UTC", s.StartsAt)
		}
	}
	// [from, to): a slot starting at from is in, one starting at to is out.
	if got := sc.Grid(at(9, 9, 30), at(11, 14, 30)); !reflect.DeepEqual(got, []models.Slot{slot(at(9, 9, 30)), slot(at(11, 14, 0))}) {
		t.Errorf("bounds: %v", got)
	}
	if got := sc.Grid(at(10, 0, 0), at(11, 0, 0)); len(got) != 0 {
		t.Errorf("Tuesday: %v", got)
	}
	for _, broken := range []models.Schedule{
		{TimeZone: "Nowhere/Land", SlotMinutes: 30, Rules: sc.Rules},
		{TimeZone: "Europe/Berlin", SlotMinutes: 0, Rules: sc.Rules},
	} {
		if got := broken.Grid(at(9, 0, 0), at(16, 0, 0)); got != nil {
			t.Errorf("Grid(%+v) = %v", broken, got)
		}
	}
}

func TestScheduleGridLocalDate(t *testing.T) {
	// Auckland is UTC+13 in March: Tuesday 08:00 there is Monday 19:00 UTC.
	sc := models.Schedule{TimeZone: "Pacific/Auckland", SlotMinutes: 60, Rules: []models.ScheduleRule{{Weekday: 2, Start: "08:00", End: "09:00"}}}
	from := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	got := sc.Grid(from, from.Add(24*time.Hour))
	s := time.Date(2026, 3, 9, 19, 0, 0, 0, time.UTC)
	if want := []models.Slot{{StartsAt: s, EndsAt: s.Add(time.Hour)}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestScheduleGridDST(t *testing.T) {
	sc := models.Schedule{TimeZone: "Europe/Berlin", SlotMinutes: 60, Rules: []models.ScheduleRule{{Weekday: 0, Start: "01:00", End: "04:00"}}}

	// Spring forward (Sun 29 Mar 2026, 02:00 → 03:00): 02:00 does not exist.
	from := time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)
	got := sc.Grid(from, from.Add(24*time.Hour))
	want := []time.Time{time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)}
	if len(got) != len(want) {
		t.Fatalf("spring forward: %v", got)
	}
	for i := range want {
		if !got[i].StartsAt.Equal(want[i]) || got[i].EndsAt.Sub(got[i].StartsAt) != time.Hour {
			t.Errorf("spring forward [%d] = %v, want start %v", i, got[i], want[i])
		}
	}

	// Fall back (Sun 25 Oct 2026, 03:00 → 02:00): 02:00 occurs twice, listed once.
	from = time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC)
	got = sc.Grid(from, from.Add(24*time.Hour))
	if len(got) != 3 {
		t.Fatalf("fall back: %v", got)
	}
	if first := time.Date(2026, 10, 24, 23, 0, 0, 0, time.UTC); !got[0].StartsAt.Equal(first) {
		t.Errorf("fall back first = %v, want %v", got[0].StartsAt, first)
	}
	if mid := got[1].StartsAt; !mid.Equal(time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)) && !mid.Equal(time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("fall back 02:00 = %v", mid)
	}
	if last := time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC); !got[2].StartsAt.Equal(last) {
		t.Errorf("fall back last = %v, want %v", got[2].StartsAt, last)
	}
}

func TestOverlapsAny(t *testing.T) {
	sl := models.Slot{StartsAt: t0, EndsAt: t0.Add(30 * time.Minute)}
	offs := func(start, end time.Duration) []models.TimeOff {
		return []models.TimeOff{{StartsAt: t0.Add(start), EndsAt: t0.Add(end)}}
	}
	cases := []struct {
		name string
		offs []models.TimeOff
		want bool
	}{
		{"none", nil, false},
		{"ends at the start", offs(-time.Hour, 0), false},
		{"starts at the end", offs(30*time.Minute, time.Hour), false},
		{"covers", offs(-time.Hour, time.Hour), true},
		{"inside", offs(10*time.Minute, 20*time.Minute), true},
		{"straddles the start", offs(-time.Minute, time.Minute), true},
		{"straddles the end", offs(29*time.Minute, 31*time.Minute), true},
	}
	for _, c := range cases {
		if got := models.OverlapsAny(sl, c.offs, models.TimeOffSpan); got != c.want {
			t.Errorf("%s: OverlapsAny = %v, want %v", c.name, got, c.want)
		}
	}
	appts := []models.Appointment{{StartsAt: t0.Add(-time.Hour), EndsAt: t0}, {StartsAt: t0.Add(15 * time.Minute), EndsAt: t0.Add(45 * time.Minute)}}
	if !models.OverlapsAny(sl, appts, models.AppointmentSpan) || models.OverlapsAny(sl, appts[:1], models.AppointmentSpan) {
		t.Error("OverlapsAny with appointments")
	}
}

// ---- chat.go ----

func TestCleanText(t *testing.T) {
	cases := []struct {
		name       string
		in         string
		allowEmpty bool
		want       string
		bad        string // expected details.fields.text, "" when valid
	}{
		{"plain", "hello", false, "hello", ""},
		{"trimmed", "  hi there \n\t", false, "hi there", ""},
		{"empty", "", false, "", "must not be empty"},
		{"blank", " \n\t ", false, "", "must not be empty"},
		{"empty allowed", "", true, "", ""},
		{"blank allowed", "   ", true, "", ""},
		{"4000 runes", strings.Repeat("é", 4000), false, strings.Repeat("é", 4000), ""},
		{"4000 runes and spaces", "  " + strings.Repeat("x", 4000) + "  ", false, strings.Repeat("x", 4000), ""},
		{"4001 runes", strings.Repeat("é", 4001), false, "", "must be at most 4000 characters"},
		{"invalid UTF-8", "ok \xff", false, "", "must be valid UTF-8"},
		{"invalid UTF-8, empty allowed", "\xc3", true, "", "must be valid UTF-8"},
		{"NUL", "a\x00b", false, "", "must not contain NUL characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := models.CleanText(c.in, c.allowEmpty)
			if c.bad == "" {
				if err != nil || got != c.want {
					t.Fatalf("CleanText = %q, %v; want %q", got, err, c.want)
				}
				return
			}
			if got != "" {
				t.Errorf("text %q returned with an error", got)
			}
			if fields := invalidFields(t, err); !reflect.DeepEqual(fields, map[string]any{"text": c.bad}) {
				t.Errorf("fields = %v, want text: %q", fields, c.bad)
			}
		})
	}
}

func TestCleanFileName(t *testing.T) {
	long := strings.Repeat("ж", 250)
	cases := []struct{ in, ext, want string }{
		{"report.pdf", ".pdf", "report.pdf"},
		{"../../etc/passwd", ".pdf", "passwd"},
		{`C:\Users\me\scan.png`, ".png", "scan.png"},
		{"/abs/path/x-ray.jpg", ".jpg", "x-ray.jpg"},
		{"", ".pdf", "attachment.pdf"},
		{"/", ".png", "attachment.png"},
		{".", ".gif", "attachment.gif"},
		{"dir/", ".pdf", "dir"},
		{"  spaced name.pdf  ", ".pdf", "spaced name.pdf"},
		{"a\x00b\x1fc\x7f\"d\".pdf", ".pdf", "abcd.pdf"},
		{"\x01\x02", ".webp", "attachment.webp"},
		{long, ".pdf", strings.Repeat("ж", 200)},
	}
	for _, c := range cases {
		if got := models.CleanFileName(c.in, c.ext); got != c.want {
			t.Errorf("CleanFileName(%q, %q) = %q, want %q", c.in, c.ext, got, c.want)
		}
	}
}

func TestLimitedReader(t *testing.T) {
	cases := []struct {
		name    string
		size    int
		limit   int64
		tooBig  bool
		oneByte bool
	}{
		{"under", 5, 10, false, false},
		{"exactly", 10, 10, false, false},
		{"exactly, byte by byte", 10, 10, false, true},
		{"over by one", 11, 10, true, false},
		{"over, byte by byte", 11, 10, true, true},
		{"empty", 0, 0, false, false},
		{"zero limit", 1, 0, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(bytes.Repeat([]byte("x"), c.size))
			if c.oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(&models.LimitedReader{R: r, Left: c.limit})
			if c.tooBig {
				if !errors.Is(err, models.ErrTooLarge) {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				return
			}
			if err != nil || len(got) != c.size {
				t.Fatalf("read %d bytes, %v; want %d", len(got), err, c.size)
			}
		})
	}
	// Errors of the underlying reader pass through.
	boom := errors.New("boom")
	if _, err := io.ReadAll(&models.LimitedReader{R: iotest.ErrReader(boom), Left: 10}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
}

// ---- call.go ----

func TestCheckSignal(t *testing.T) {
	cases := []struct {
		kind string
		n    int
		bad  string // failing field, "" when valid
	}{
		{"sdp", 100, ""},
		{"sdp", models.MaxSDPBytes, ""},
		{"sdp", models.MaxSDPBytes + 1, "sdp"},
		{"sdp", 0, "sdp"},
		{"sdp", 4, "sdp"},
		{"candidate", 200, ""},
		{"candidate", models.MaxCandidateBytes, ""},
		{"candidate", models.MaxCandidateBytes + 1, "candidate"},
		{"candidate", 0, "candidate"},
		{"candidate", 4, "candidate"},
		{"other", 1 << 20, ""},
		{"other", 0, "other"},
	}
	for _, c := range cases {
		err := models.CheckSignal(c.kind, c.n)
		if c.bad == "" {
			if err != nil {
				t.Errorf("CheckSignal(%s, %d) = %v", c.kind, c.n, err)
			}
			continue
		}
		if fields := invalidFields(t, err); len(fields) != 1 || fields[c.bad] == nil {
			t.Errorf("CheckSignal(%s, %d) fields = %v, want %s", c.kind, c.n, fields, c.bad)
		}
	}
}

func TestICEServers(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	actor := models.Actor{UserID: "u-1", Role: models.RolePatient}
	stun := []string{"stun:stun.example.com:3478"}
	turn := []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"}

	t.Run("nothing configured", func(t *testing.T) {
		got, ttl := models.ICEConfig{}.Servers(actor, now)
		if got != nil || ttl != 0 {
			t.Errorf("Servers = %v, %v", got, ttl)
		}
	})
	t.Run("stun only", func(t *testing.T) {
		got, _ := models.ICEConfig{STUNURLs: stun}.Servers(actor, now)
		if !reflect.DeepEqual(got, []models.ICEServer{{URLs: stun}}) {
			t.Errorf("Servers = %+v", got)
		}
	})
	t.Run("turn without secret is left out", func(t *testing.T) {
		got, _ := models.ICEConfig{STUNURLs: stun, TURNURLs: turn, TURNTTL: time.Hour}.Servers(actor, now)
		if !reflect.DeepEqual(got, []models.ICEServer{{URLs: stun}}) {
			t.Errorf("Servers = %+v", got)
		}
	})
	t.Run("turn with credentials", func(t *testing.T) {
		cfg := models.ICEConfig{STUNURLs: stun, TURNURLs: turn, TURNSecret: "s3cret", TURNTTL: 6 * time.Hour}
		got, ttl := cfg.Servers(actor, now)
		if ttl != 6*time.Hour || len(got) != 2 {
			t.Fatalf("Servers = %+v, %v", got, ttl)
		}
		user := fmt.Sprintf("%d:u-1", now.Add(6*time.Hour).Unix())
		m := hmac.New(sha1.New, []byte("s3cret"))
		m.Write([]byte(user))
		cred := base64.StdEncoding.EncodeToString(m.Sum(nil))
		want := models.ICEServer{URLs: turn, Username: user, Credential: cred}
		if !reflect.DeepEqual(got[1], want) {
			t.Errorf("turn server\n got %+v\nwant %+v", got[1], want)
		}
		if got[0].Username != "" || got[0].Credential != "" {
			t.Errorf("stun server carries credentials: %+v", got[0])
		}
	})
}

func TestTURNCredential(t *testing.T) {
	// RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
	if got, want := models.TURNCredential("Jefe", "what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk="; got != want {
		t.Errorf("TURNCredential = %q, want %q", got, want)
	}
	if models.TURNCredential("a", "1:u") == models.TURNCredential("b", "1:u") || models.TURNCredential("a", "1:u") == models.TURNCredential("a", "2:u") {
		t.Error("credential ignores secret or username")
	}
}

// ---- page.go ----

func TestPageLimit(t *testing.T) {
	cases := []struct {
		in, want int
		ok       bool
	}{
		{0, models.DefaultPageSize, true}, {1, 1, true}, {50, 50, true}, {200, 200, true},
		{201, 0, false}, {-1, 0, false}, {1 << 30, 0, false},
	}
	for _, c := range cases {
		got, err := models.PageLimit(c.in)
		if c.ok {
			if err != nil || got != c.want {
				t.Errorf("PageLimit(%d) = %d, %v", c.in, got, err)
			}
			continue
		}
		if fields := invalidFields(t, err); fields["limit"] == nil || got != 0 {
			t.Errorf("PageLimit(%d) = %d, %v", c.in, got, fields)
		}
	}
}

func TestCursor(t *testing.T) {
	at := time.Date(2026, 3, 10, 9, 0, 0, 123456789, time.FixedZone("X", 3*3600))
	for _, id := range []string{"abc", "", "with|pipe", "ünï"} {
		s := models.EncodeCursor(at, id)
		if strings.ContainsAny(s, "+/=") {
			t.Errorf("cursor %q is not URL safe", s)
		}
		c, err := models.DecodeCursor(s)
		if err != nil || c == nil {
			t.Fatalf("DecodeCursor(%q) = %v, %v", s, c, err)
		}
		if !c.At.Equal(at) || c.At.Location() != time.UTC || c.ID != id {
			t.Errorf("round trip = %+v, want %v %q", c, at, id)
		}
	}
	if c, err := models.DecodeCursor(""); c != nil || err != nil {
		t.Errorf(`DecodeCursor("") = %v, %v`, c, err)
	}
	for _, bad := range []string{
		"!!!",
		base64.RawURLEncoding.EncodeToString([]byte("no separator")),
		base64.RawURLEncoding.EncodeToString([]byte("yesterday|id")),
		base64.StdEncoding.EncodeToString([]byte("2026-03-10T09:00:00Z|id")), // padded
	} {
		c, err := models.DecodeCursor(bad)
		if fields := invalidFields(t, err); c != nil || fields["cursor"] == nil {
			t.Errorf("DecodeCursor(%q) = %v, %v", bad, c, fields)
		}
	}
}

func TestPageOf(t *testing.T) {
	type row struct {
		at time.Time
		id string
	}
	key := func(r row) (time.Time, string) { return r.at, r.id }
	rows := func(n int) []row {
		out := make([]row, n)
		for i := range out {
			out[i] = row{t0.Add(-time.Duration(i) * time.Minute), fmt.Sprintf("r%d", i)}
		}
		return out
	}

	p := models.PageOf(rows(4), 3, key)
	if len(p.Items) != 3 || p.NextCursor != models.EncodeCursor(t0.Add(-2*time.Minute), "r2") {
		t.Errorf("limit+1 rows: %d items, cursor %q", len(p.Items), p.NextCursor)
	}
	c, err := models.DecodeCursor(p.NextCursor)
	if err != nil || c.ID != "r2" {
		t.Errorf("next cursor = %+v, %v", c, err)
	}
	if p := models.PageOf(rows(3), 3, key); len(p.Items) != 3 || p.NextCursor != "" {
		t.Errorf("exactly limit rows: %d items, cursor %q", len(p.Items), p.NextCursor)
	}
	if p := models.PageOf[row](nil, 3, key); p.Items == nil || len(p.Items) != 0 || p.NextCursor != "" {
		t.Errorf("no rows: %#v", p)
	}
}

// ---- errors.go ----

func TestErrors(t *testing.T) {
	e := models.Errorf(models.ECONFLICT, "cannot %s: %d", "go", 3)
	if e.Code != models.ECONFLICT || e.Message != "cannot go: 3" || e.Details != nil {
		t.Errorf("Errorf = %#v", e)
	}
	if e.Error() != "conflict: cannot go: 3" {
		t.Errorf("Error() = %q", e.Error())
	}

	d := e.WithDetails(map[string]any{"k": 1})
	if d == e || e.Details != nil || d.Details["k"] != 1 || d.Code != e.Code || d.Message != e.Message {
		t.Errorf("WithDetails changed the original or lost fields: %#v %#v", e, d)
	}

	wrapped := fmt.Errorf("store: %w", d)
	plain := errors.New(`pq: password authentication failed for user "admin" at 10.0.0.5`)
	cases := []struct {
		err  error
		want string
	}{
		{e, models.ECONFLICT},
		{wrapped, models.ECONFLICT},
		{fmt.Errorf("outer: %w", wrapped), models.ECONFLICT},
		{plain, models.EINTERNAL},
		{nil, models.EINTERNAL},
		{models.ErrAppointmentNotFound, models.ENOTFOUND},
	}
	for _, c := range cases {
		if got := models.ErrorCode(c.err); got != c.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", c.err, got, c.want)
		}
	}

	if got := models.AsError(wrapped); got != d {
		t.Errorf("AsError(wrapped) = %#v, want the *Error in the chain", got)
	}
	for _, err := range []error{plain, fmt.Errorf("query: %w", plain), nil} {
		got := models.AsError(err)
		if got.Code != models.EINTERNAL || got.Message != "internal error" || got.Details != nil {
			t.Errorf("AsError(%v) = %#v", err, got)
		}
		if err != nil && (strings.Contains(got.Error(), "password") || strings.Contains(got.Message, "10.0.0.5")) {
			t.Errorf("AsError exposes the cause: %q", got.Error())
		}
	}

	inv := models.InvalidFields(map[string]any{"a": "b"})
	if inv.Code != models.EINVALID || !reflect.DeepEqual(inv.Details, map[string]any{"fields": map[string]any{"a": "b"}}) {
		t.Errorf("InvalidFields = %#v", inv)
	}
}

func TestCheckPassword(t *testing.T) {
	common := func(p string) bool { return p == "password123" }
	for _, c := range []struct {
		pw, email string
		ok        bool
	}{
		{"correct-horse-battery-9", "ann@example.com", true},
		{"short-pw", "ann@example.com", false},
		{"          ", "ann@example.com", false},
		{"password123", "ann@example.com", false},
		{"ann@example.com", "Ann@Example.com", false},
		{"annabergman", "annabergman@example.com", false},
		{"注册密码安全又好记吧的", "ann@example.com", true},
	} {
		err := models.CheckPassword(c.pw, c.email, common)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v", c.pw, err)
		}
		if err != nil && models.AsError(err).Details["fields"].(map[string]any)["password"] == nil {
			t.Errorf("%q: no details.fields.password", c.pw)
		}
	}
}

func TestSignInDelayDoublesUpToTheCap(t *testing.T) {
	p := models.SignInPolicy{FreeAttempts: 5, MaxDelay: 10 * time.Second}
	for n, want := range map[int64]time.Duration{1: 0, 5: 0, 6: time.Second, 7: 2 * time.Second, 8: 4 * time.Second, 9: 8 * time.Second, 10: 10 * time.Second, 100: 10 * time.Second} {
		if got := p.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	e := models.RateLimited(1500*time.Millisecond, "wait")
	if e.Code != models.ERATELIMITED || e.RetryAfterSeconds != 2 {
		t.Fatalf("RateLimited: %+v", e)
	}
}
