package main

import (
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of docker-compose.yml the checks read.
type composeFile struct {
	Services map[string]struct {
		Environment map[string]string `yaml:"environment"`
		Networks    yaml.Node         `yaml:"networks"`
	} `yaml:"services"`
	Configs map[string]struct {
		Content string `yaml:"content"`
	} `yaml:"configs"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	return f
}

// TestComposeTrustsOnlyTheBalancer: the app nodes believe X-Forwarded-For
// from the load balancer's fixed address alone, and nginx sets the header
// (a client's own value is dropped), so per-IP limits hold.
func TestComposeTrustsOnlyTheBalancer(t *testing.T) {
	f := readCompose(t)
	var lbAddr string
	var lbNets struct {
		Backend struct {
			IPv4 string `yaml:"ipv4_address"`
		} `yaml:"backend"`
	}
	lb := f.Services["lb"]
	if err := lb.Networks.Decode(&lbNets); err != nil || lbNets.Backend.IPv4 == "" {
		t.Fatalf("the lb service needs a fixed ipv4_address on the backend network (%v)", err)
	}
	lbAddr = lbNets.Backend.IPv4
	for _, name := range []string{"app1", "app2"} {
		env := f.Services[name].Environment
		proxies := strings.Split(env["TRUSTED_PROXIES"], ",")
		if len(proxies) != 1 || strings.TrimSpace(proxies[0]) != lbAddr {
			t.Errorf("%s trusts %q; want only the balancer %s", name, env["TRUSTED_PROXIES"], lbAddr)
		}
		for _, p := range proxies {
			if pfx, err := netip.ParsePrefix(strings.TrimSpace(p)); err == nil && pfx.Bits() < pfx.Addr().BitLen() {
				t.Errorf("%s trusts the whole range %s", name, p)
			}
		}
	}
	conf := f.Configs["nginx"].Content
	if !regexp.MustCompile(`proxy_set_header\s+X-Forwarded-For\s+\$\$remote_addr;`).MatchString(conf) {
		t.Errorf("nginx must set X-Forwarded-For to $remote_addr:\n%s", conf)
	}
	if strings.Contains(conf, "proxy_add_x_forwarded_for") {
		t.Error("nginx appends to a client's X-Forwarded-For")
	}
}

// TestComposeSetsOnlyKnownSettings: every variable the app nodes get is one
// the server reads, and the production settings it needs are there.
func TestComposeSetsOnlyKnownSettings(t *testing.T) {
	f := readCompose(t)
	read := map[string]bool{}
	if _, err := loadConfig(func(k string) string { read[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	env := f.Services["app1"].Environment
	for k := range env {
		if !read[k] {
			t.Errorf("docker-compose.yml sets %s, which the server does not read", k)
		}
	}
	for _, k := range []string{"APP_ENV", "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "TRUSTED_PROXIES"} {
		if env[k] == "" {
			t.Errorf("docker-compose.yml does not set %s", k)
		}
	}
}
