package main

import (
	"testing"
	"time"
)

// Production implies a Secure refresh cookie unless said otherwise; the
// booking horizon takes days.
func TestConfigDefaults(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		env       map[string]string
		secure    bool
		horizon   time.Duration
		maxActive int
	}{
		{map[string]string{}, false, 90 * 24 * time.Hour, 5},
		{map[string]string{"APP_ENV": "production", "JWT_SECRET": secret}, true, 90 * 24 * time.Hour, 5},
		{map[string]string{"APP_ENV": "production", "JWT_SECRET": secret, "COOKIE_SECURE": "false"}, false, 90 * 24 * time.Hour, 5},
		{map[string]string{"BOOKING_HORIZON": "30d", "MAX_ACTIVE_APPOINTMENTS": "2"}, false, 30 * 24 * time.Hour, 2},
		{map[string]string{"BOOKING_HORIZON": "36h"}, false, 36 * time.Hour, 5},
	} {
		cfg, err := loadConfig(envOf(c.env))
		if err != nil {
			t.Fatalf("%v: %v", c.env, err)
		}
		if cfg.CookieSecure != c.secure || cfg.BookingHorizon != c.horizon || cfg.MaxActive != c.maxActive {
			t.Errorf("%v: secure %v horizon %v max %d", c.env, cfg.CookieSecure, cfg.BookingHorizon, cfg.MaxActive)
		}
	}
	if _, err := loadConfig(envOf(map[string]string{"BOOKING_HORIZON": "ninety days"})); err == nil {
		t.Error("a bad BOOKING_HORIZON was accepted")
	}
}

// Payments are off unless configured, and a half-configured Stripe does
// not start.
func TestPaymentConfig(t *testing.T) {
	cfg, err := loadConfig(envOf(nil))
	if err != nil || cfg.PaymentProvider != "none" || cfg.PaymentHold != 15*time.Minute {
		t.Fatalf("defaults: %q hold %v (%v)", cfg.PaymentProvider, cfg.PaymentHold, err)
	}
	ok := map[string]string{"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_1", "STRIPE_WEBHOOK_SECRET": "whsec_1",
		"STRIPE_API_BASE": "http://127.0.0.1:12111", "PAYMENT_HOLD": "10m"}
	if cfg, err := loadConfig(envOf(ok)); err != nil || cfg.PaymentHold != 10*time.Minute || cfg.StripeAPIBase != "http://127.0.0.1:12111" {
		t.Fatalf("stripe: %+v, %v", cfg, err)
	}
	for k, v := range map[string]string{"PAYMENT_PROVIDER": "paypal", "STRIPE_WEBHOOK_SECRET": "", "STRIPE_SECRET_KEY": "",
		"STRIPE_API_BASE": "ftp://x", "PAYMENT_HOLD": "10s"} {
		bad := map[string]string{}
		for kk, vv := range ok {
			bad[kk] = vv
		}
		bad[k] = v
		if _, err := loadConfig(envOf(bad)); err == nil {
			t.Errorf("%s=%q was accepted", k, v)
		}
	}
}
