package models

import (
	"errors"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
)

// validate is the one validator used by every operation. It is safe for
// concurrent use and caches struct metadata.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name := f.Tag.Get("field")
		if name == "-" || name == "" {
			return f.Name
		}
		return name
	})
	_ = v.RegisterValidation("utf8", func(fl validator.FieldLevel) bool {
		return utf8.ValidString(fl.Field().String())
	})
	_ = v.RegisterValidation("timezone", func(fl validator.FieldLevel) bool {
		return ValidTimeZone(fl.Field().String())
	})
	_ = v.RegisterValidation("hhmm", func(fl validator.FieldLevel) bool {
		_, err := ParseClock(fl.Field().String())
		return err == nil
	})
	return v
}

// Validate checks s against its `validate` tags and returns an EINVALID
// *Error whose details map each failing field to the rule it broke.
func Validate(s any) error {
	err := validate.Struct(s)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return Errorf(EINVALID, "invalid request")
	}
	fields := make(map[string]any, len(ves))
	for _, fe := range ves {
		fields[fieldPath(fe.Namespace())] = describeRule(fe)
	}
	return InvalidFields(fields)
}

// InvalidFields returns an EINVALID error listing the given field problems.
func InvalidFields(fields map[string]any) *Error {
	return &Error{Code: EINVALID, Message: "some fields are invalid", Details: map[string]any{"fields": fields}}
}

// fieldPath drops the struct name from a validator namespace ("Input.rules[0].start" → "rules[0].start").
func fieldPath(ns string) string {
	if i := strings.IndexByte(ns, '.'); i >= 0 {
		return ns[i+1:]
	}
	return ns
}

func describeRule(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be an email address"
	case "min":
		if fe.Kind() == reflect.String {
			return "must be at least " + fe.Param() + " characters"
		}
		return "must be at least " + fe.Param()
	case "max":
		if fe.Kind() == reflect.String {
			return "must be at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "oneof":
		return "must be one of: " + fe.Param()
	case "utf8":
		return "must be valid UTF-8"
	case "timezone":
		return "must be an IANA time zone such as Europe/Berlin"
	case "hhmm":
		return "must be a time of day as HH:MM"
	case "iso4217":
		return "must be an ISO 4217 currency code such as EUR"
	case "uuid", "uuid4":
		return "must be an id"
	case "gte":
		return "must be at least " + fe.Param()
	case "lte":
		return "must be at most " + fe.Param()
	}
	return "is invalid (" + fe.Tag() + ")"
}

// ValidTimeZone reports whether name is a loadable IANA zone (not "Local").
func ValidTimeZone(name string) bool {
	if name == "" || name == "Local" {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// ParseClock parses "HH:MM" (00:00–24:00) into minutes after midnight.
func ParseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, errors.New("want HH:MM")
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("want HH:MM")
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, errors.New("out of range")
	}
	return h*60 + m, nil
}
