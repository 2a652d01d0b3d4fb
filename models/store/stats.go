package store

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"teleconsult/models"
)

// Stats counts for the admin's overview.
type Stats struct {
	db    *gorm.DB
	clock models.Clock
}

// NewStats builds the stats service.
func NewStats(db *gorm.DB, clock models.Clock) *Stats { return &Stats{db: db, clock: clock} }

// Stats counts users, appointments and today's messages. Admins only.
func (s *Stats) Stats(ctx context.Context, actor models.Actor) (models.Stats, error) {
	if !actor.IsAdmin() {
		return models.Stats{}, models.Errorf(models.EFORBIDDEN, "admins only")
	}
	out := models.Stats{
		UsersByRole:          map[models.Role]int64{models.RolePatient: 0, models.RoleDoctor: 0, models.RoleAdmin: 0},
		AppointmentsByStatus: map[models.AppointmentStatus]int64{},
	}
	for _, st := range models.Statuses {
		out.AppointmentsByStatus[st] = 0
	}
	db := s.db.WithContext(ctx)
	var roles []struct {
		Role string
		N    int64
	}
	if err := db.Model(&userRow{}).Select("role, COUNT(*) AS n").Group("role").Scan(&roles).Error; err != nil {
		return models.Stats{}, err
	}
	for _, r := range roles {
		out.UsersByRole[models.Role(r.Role)] = r.N
	}
	var statuses []struct {
		Status string
		N      int64
	}
	if err := db.Model(&appointmentRow{}).Select("status, COUNT(*) AS n").Group("status").Scan(&statuses).Error; err != nil {
		return models.Stats{}, err
	}
	for _, r := range statuses {
		out.AppointmentsByStatus[models.AppointmentStatus(r.Status)] = r.N
	}
	now := s.clock.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if err := db.Model(&messageRow{}).Where("created_at >= ?", midnight).Count(&out.MessagesToday).Error; err != nil {
		return models.Stats{}, err
	}
	if err := s.byDay(ctx, midnight, &out); err != nil {
		return models.Stats{}, err
	}
	return out, nil
}

// byDay fills the last StatsDays days, every day present (zeros included).
func (s *Stats) byDay(ctx context.Context, today time.Time, out *models.Stats) error {
	first := today.AddDate(0, 0, -(models.StatsDays - 1))
	end := today.AddDate(0, 0, 1)
	index := map[string]int{}
	for i := range models.StatsDays {
		d := first.AddDate(0, 0, i).Format(time.DateOnly)
		index[d] = i
		st := models.DayStatuses{Date: d, ByStatus: map[models.AppointmentStatus]int64{}}
		for _, s := range models.Statuses {
			st.ByStatus[s] = 0
		}
		out.AppointmentsByDay = append(out.AppointmentsByDay, st)
		out.MessagesByDay = append(out.MessagesByDay, models.DayCount{Date: d})
	}
	db := s.db.WithContext(ctx)
	// Appointments are few per day: bucketed here, the same on both databases.
	var appts []struct {
		StartsAt time.Time
		Status   string
	}
	if err := db.Model(&appointmentRow{}).Select("starts_at, status").Where("starts_at >= ? AND starts_at < ?", first, end).Scan(&appts).Error; err != nil {
		return err
	}
	for _, a := range appts {
		if i, ok := index[a.StartsAt.UTC().Format(time.DateOnly)]; ok {
			out.AppointmentsByDay[i].Total++
			out.AppointmentsByDay[i].ByStatus[models.AppointmentStatus(a.Status)]++
		}
	}
	// Messages may be many: counted by the database.
	day := "strftime('%Y-%m-%d', created_at)"
	if db.Dialector.Name() == "postgres" {
		day = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	var msgs []struct {
		Day string
		N   int64
	}
	if err := db.Model(&messageRow{}).Select(day+" AS day, COUNT(*) AS n").Where("created_at >= ? AND created_at < ?", first, end).
		Group("day").Scan(&msgs).Error; err != nil {
		return err
	}
	for _, m := range msgs {
		if i, ok := index[m.Day]; ok {
			out.MessagesByDay[i].Count = m.N
		}
	}
	return s.payments(ctx, first, end, out)
}

// payments fills the money: per day in the window (bucketed here; a clinic
// takes few payments a day) and all-time totals per currency (summed by
// the database). Sums are integers in minor units.
func (s *Stats) payments(ctx context.Context, first, end time.Time, out *models.Stats) error {
	db := s.db.WithContext(ctx)
	var rows []struct {
		Currency       string
		Amount         int64
		RefundedAmount int64
		PaidAt         *time.Time
		RefundedAt     *time.Time
	}
	if err := db.Model(&paymentRow{}).Select("currency, amount, refunded_amount, paid_at, refunded_at").
		Where("(paid_at >= ? AND paid_at < ?) OR (refunded_at >= ? AND refunded_at < ?)", first, end, first, end).Scan(&rows).Error; err != nil {
		return err
	}
	days := map[string][]models.PaymentDay{}
	var currencies []string
	for _, r := range rows {
		if _, ok := days[r.Currency]; !ok {
			currencies = append(currencies, r.Currency)
			series := make([]models.PaymentDay, models.StatsDays)
			for i := range series {
				series[i] = models.PaymentDay{Date: first.AddDate(0, 0, i).Format(time.DateOnly), Currency: r.Currency}
			}
			days[r.Currency] = series
		}
		series := days[r.Currency]
		if r.PaidAt != nil && !r.PaidAt.Before(first) && r.PaidAt.Before(end) {
			i := int(r.PaidAt.UTC().Sub(first) / (24 * time.Hour))
			series[i].Count++
			series[i].Paid += r.Amount
		}
		if r.RefundedAt != nil && !r.RefundedAt.Before(first) && r.RefundedAt.Before(end) {
			series[int(r.RefundedAt.UTC().Sub(first)/(24*time.Hour))].Refunded += r.RefundedAmount
		}
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		out.PaymentsByDay = append(out.PaymentsByDay, days[c]...)
	}
	var totals []struct {
		Currency string
		N        int64
		Paid     int64
		Refunded int64
	}
	if err := db.Model(&paymentRow{}).Select("currency, COUNT(*) AS n, SUM(amount) AS paid, SUM(refunded_amount) AS refunded").
		Where("paid_at IS NOT NULL").Group("currency").Order("currency").Scan(&totals).Error; err != nil {
		return err
	}
	for _, t := range totals {
		out.PaymentTotals = append(out.PaymentTotals, models.PaymentTotal{Currency: t.Currency, Count: t.N, Paid: t.Paid, Refunded: t.Refunded})
	}
	return nil
}
