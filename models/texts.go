package models

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Texts the server writes for people (notifications, and mails later)
// are rendered in the recipient's language from this one catalogue, by
// golang.org/x/text/message. A key is the English text; Chinese has its
// own. Times are shown in the recipient's time zone, the zone named by
// its city and UTC offset (never an abbreviation such as "CST", which
// means three different zones).

// Locales are the languages users may choose; the first is the default.
var Locales = []string{"en", "zh"}

// LocaleOr returns locale when it is supported, else the default.
func LocaleOr(locale string) string {
	for _, l := range Locales {
		if l == locale {
			return l
		}
	}
	return Locales[0]
}

var texts = func() *catalog.Builder {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	zh := map[string]string{
		"New appointment":                                    "新的预约",
		"%s booked %s.":                                      "%s 预约了 %s。",
		"Appointment cancelled":                              "预约已取消",
		"The appointment of %s was cancelled.":               "%s 的预约已取消。",
		"The appointment of %s was cancelled by the clinic.": "%s 的预约已被诊所取消。",
		"Reason: %s":                                         "原因：%s",
		"Appointment moved":                                  "预约已改期",
		"Your appointment moved from %s to %s.":              "您的预约已从 %s 改到 %s。",
		"Your consultation has started":                      "您的问诊已开始",
		"%s is waiting for you in the consultation room.":    "%s 正在问诊室等您。",
		"Your diagnosis is ready":                            "您的诊断已出",
		"%s has written up your consultation.":               "%s 已写好本次问诊的诊断。",
		"Upcoming consultation":                              "即将开始的问诊",
		"Your consultation with %s starts %s: %s.":           "您与 %s 的问诊%s开始：%s。",
		"your doctor":                                        "您的医生",
		"Your doctor":                                        "您的医生",
		"A patient":                                          "一位患者",
		"a patient":                                          "一位患者",
		"now":                                                "现在",
		"in %d minutes":                                      "%d 分钟后",
		"in %d hours":                                        "%d 小时后",
		"Open Teleconsult: %s\n\nYou get these mails because email notifications are on in your profile (%s).": "打开 Teleconsult：%s\n\n您收到这些邮件，是因为您在个人资料中开启了邮件通知（%s）。",
		"Reset your Teleconsult password": "重置您的 Teleconsult 密码",
		"Payment received":                "已收到付款",
		"We received %s for your consultation with %s on %s. Receipt %s.": "我们已收到您与 %[2]s 在 %[3]s 的问诊费用 %[1]s。收据编号 %[4]s。",
		"Appointment not booked": "预约未成功",
		"The payment for your appointment of %s did not go through, so the slot was released.":        "%s 的预约付款未成功，该时段已释放。",
		"The payment for your appointment of %s was not completed in time, so the slot was released.": "%s 的预约未在规定时间内完成付款，该时段已释放。",
		"Refund issued": "已退款",
		"%s was refunded for your appointment of %s. It reaches your account in a few days.": "%[2]s 的预约已退款 %[1]s，款项将在几天内退回您的账户。",
		"Hello %s,\n\nSomeone (we hope you) asked to reset the password of your Teleconsult account. Open this link within an hour to choose a new one:\n\n%s\n\nIf it was not you, ignore this mail: your password stays as it is.\n": "%s，您好：\n\n有人（希望是您本人）申请重置您的 Teleconsult 账户密码。请在一小时内打开以下链接设置新密码：\n\n%s\n\n如果不是您本人操作，请忽略此邮件，您的密码不会改变。\n",
	}
	for key, text := range zh {
		_ = b.SetString(language.English, key, key)
		_ = b.SetString(language.Chinese, key, text)
	}
	return b
}()

// Text renders texts in one language.
type Text struct {
	p      *message.Printer
	locale string
}

// TextIn returns the renderer of a locale (the default for an unknown one).
func TextIn(locale string) Text {
	locale = LocaleOr(locale)
	return Text{p: message.NewPrinter(language.Make(locale), message.Catalog(texts)), locale: locale}
}

// T renders the text keyed by its English form with args.
func (t Text) T(key string, args ...any) string { return t.p.Sprintf(key, args...) }

// When is a moment as the reader reads it: in their zone, named by city
// and offset ("Tue 10 Mar 2026 at 10:00 (Berlin, UTC+1)"; UTC as "UTC").
func (t Text) When(at time.Time, zone string) string {
	loc := time.UTC
	if zone != "" {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	at = at.In(loc)
	label := ZoneLabel(at)
	if t.locale == "zh" {
		weekdays := []string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}
		return fmt.Sprintf("%d年%d月%d日（%s）%s（%s）", at.Year(), int(at.Month()), at.Day(), weekdays[at.Weekday()], at.Format("15:04"), zoneOffset(at))
	}
	if loc == time.UTC {
		return at.Format("Mon 2 Jan 2006 at 15:04") + " UTC"
	}
	return at.Format("Mon 2 Jan 2006 at 15:04") + " (" + label + ")"
}

// ZoneLabel names a moment's zone by its city and UTC offset
// ("Shanghai, UTC+8", "Kolkata, UTC+5:30", "UTC").
func ZoneLabel(at time.Time) string {
	offset := zoneOffset(at)
	name := at.Location().String()
	if name == "UTC" || name == "" || name == "Local" {
		return offset
	}
	city := name[strings.LastIndex(name, "/")+1:]
	return strings.ReplaceAll(city, "_", " ") + ", " + offset
}

// zoneOffset is "UTC", "UTC+8" or "UTC-3:30".
func zoneOffset(at time.Time) string {
	_, off := at.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	offset := "UTC"
	if off != 0 {
		offset += sign + fmt.Sprint(off/3600)
		if m := off % 3600 / 60; m != 0 {
			offset += fmt.Sprintf(":%02d", m)
		}
	}
	return offset
}

// In is a lead time ("in 15 minutes").
func (t Text) In(d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case m <= 1:
		return t.T("now")
	case m < 120:
		return t.T("in %d minutes", m)
	default:
		return t.T("in %d hours", int(d.Round(time.Hour)/time.Hour))
	}
}

// FormatMoney writes an amount in minor units with its currency code,
// with the currency's own number of decimals ("45.00 EUR", "3000 JPY"),
// by integer arithmetic.
func FormatMoney(amount int64, code string) string {
	digits := 2
	if unit, err := currency.ParseISO(code); err == nil {
		digits, _ = currency.Standard.Rounding(unit)
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	if digits == 0 {
		return fmt.Sprintf("%s%d %s", sign, amount, code)
	}
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, amount/scale, digits, amount%scale, code)
}
