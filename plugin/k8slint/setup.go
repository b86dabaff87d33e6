package k8slint

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"
)

// Name is the one word used for the directive, the package, Name(), error
// prefixes, the log tag and the metrics subsystem.
const Name = "k8slint"

var log = clog.NewWithPlugin(Name)

func init() { plugin.Register(Name, setup) }

// MaxClusterDomains bounds cluster_domain's list: a query's domain index
// is kept in 16 bits (recorder.dom). dnslint offers no fix that would
// exceed it.
const MaxClusterDomains = 64

// Defaults, documented in README.md.
const (
	defaultClusterDomain    = "cluster.local."
	defaultNamespacesMax    = 200
	defaultClientsMax       = 20000
	defaultRetryWindow      = 10 * time.Second
	defaultStormRate        = 100.0
	defaultStormInterval    = 30 * time.Second
	defaultDegradedRatio    = 0.25
	defaultDegradedWindow   = 30 * time.Second
	defaultDegradedMinCount = 20
	defaultReportInterval   = 10 * time.Minute
	defaultReportTop        = 5
)

// Config is the parsed k8slint stanza.
type Config struct {
	Zones          []string // queries outside these zones are ignored
	ClusterDomains []string // fully qualified, lower case
	NamespacesMax  int
	ClientsMax     int
	RetryWindow    time.Duration
	StormRate      float64 // wasted queries per second in one namespace
	StormInterval  time.Duration
	DegradedRatio  float64
	DegradedWindow time.Duration
	ReportInterval time.Duration // 0: no report
	ReportTop      int
	ReportAddr     string // where the report is served; "": not served
	Attribution    bool
}

// DefaultConfig returns the configuration of a bare `k8slint` line.
func DefaultConfig() Config {
	return Config{
		Zones:          []string{"."},
		ClusterDomains: []string{defaultClusterDomain},
		NamespacesMax:  defaultNamespacesMax,
		ClientsMax:     defaultClientsMax,
		RetryWindow:    defaultRetryWindow,
		StormRate:      defaultStormRate,
		StormInterval:  defaultStormInterval,
		DegradedRatio:  defaultDegradedRatio,
		DegradedWindow: defaultDegradedWindow,
		ReportInterval: defaultReportInterval,
		ReportTop:      defaultReportTop,
	}
}

func setup(c *caddy.Controller) error {
	cfg, err := parse(c)
	if err != nil {
		return plugin.Error(Name, err)
	}
	k := New(cfg)
	conf := dnsserver.GetConfig(c)
	c.OnStartup(func() error {
		// The chain is built by now: the block's plugins are registered.
		k.traced = conf.Handler("trace") != nil
		k.kept = mayKeepWriter(conf.Handler("cache"))
		if cfg.Attribution {
			k.startAttribution(conf.Handler("kubernetes"))
		}
		if cfg.ReportAddr != "" {
			if err := serveReport(k, cfg.ReportAddr); err != nil {
				k.stopAttribution()
				return plugin.Error(Name, fmt.Errorf("report: %w", err))
			}
		}
		k.Start()
		return nil
	})
	c.OnShutdown(func() error {
		if cfg.ReportAddr != "" {
			unserveReport(k, cfg.ReportAddr)
		}
		k.stopAttribution()
		k.Stop()
		return nil
	})
	conf.AddPlugin(func(next plugin.Handler) plugin.Handler {
		k.Next = next
		return k
	})
	return nil
}

// parse reads the k8slint stanza. It is pure: tests call it directly, and
// every error carries the Corefile's file and line through c.Errf/c.ArgErr.
func parse(c *caddy.Controller) (Config, error) {
	cfg := DefaultConfig()
	seen := false
	for c.Next() {
		if seen {
			return cfg, plugin.ErrOnce
		}
		seen = true
		cfg.Zones = plugin.OriginsFromArgsOrServerBlock(c.RemainingArgs(), c.ServerBlockKeys)
		for c.NextBlock() {
			opt := c.Val()
			args := c.RemainingArgs()
			switch opt {
			case "cluster_domain":
				if len(args) == 0 {
					return cfg, c.ArgErr()
				}
				if len(args) > MaxClusterDomains {
					return cfg, c.Errf("cluster_domain: at most %d domains, not %d", MaxClusterDomains, len(args))
				}
				cfg.ClusterDomains = cfg.ClusterDomains[:0]
				for _, a := range args {
					d, err := domainArg(a)
					if err != nil {
						return cfg, c.Errf("cluster_domain: %v", err)
					}
					cfg.ClusterDomains = append(cfg.ClusterDomains, d)
				}
			case "namespaces_max":
				n, err := intArg(c, opt, args, 1, 10000)
				if err != nil {
					return cfg, err
				}
				cfg.NamespacesMax = n
			case "clients_max":
				n, err := intArg(c, opt, args, 1, 10_000_000)
				if err != nil {
					return cfg, err
				}
				cfg.ClientsMax = n
			case "retry_window":
				if len(args) != 1 {
					return cfg, c.ArgErr()
				}
				d, err := durationArg(c, opt, args[0], 100*time.Millisecond, 2*time.Minute)
				if err != nil {
					return cfg, err
				}
				cfg.RetryWindow = d
			case "storm":
				if len(args) < 1 || len(args) > 2 {
					return cfg, c.ArgErr()
				}
				r, err := strconv.ParseFloat(args[0], 64)
				if err != nil || r <= 0 || r > 1e9 {
					return cfg, c.Errf("storm: rate must be a positive number of wasted queries per second, got %q", args[0])
				}
				cfg.StormRate = r
				if len(args) == 2 {
					d, err := durationArg(c, opt, args[1], time.Second, time.Hour)
					if err != nil {
						return cfg, err
					}
					cfg.StormInterval = d
				}
			case "upstream_degraded":
				if len(args) < 1 || len(args) > 2 {
					return cfg, c.ArgErr()
				}
				r, err := strconv.ParseFloat(strings.TrimSuffix(args[0], "%"), 64)
				if err == nil && strings.HasSuffix(args[0], "%") {
					r /= 100
				}
				if err != nil || r <= 0 || r > 1 {
					return cfg, c.Errf("upstream_degraded: ratio must be in (0, 1] (or a percentage), got %q", args[0])
				}
				cfg.DegradedRatio = r
				if len(args) == 2 {
					d, err := durationArg(c, opt, args[1], time.Second, time.Hour)
					if err != nil {
						return cfg, err
					}
					cfg.DegradedWindow = d
				}
			case "report":
				if err := reportArgs(c, &cfg, args); err != nil {
					return cfg, err
				}
			case "attribution":
				if len(args) != 0 {
					return cfg, c.ArgErr()
				}
				cfg.Attribution = true
			default:
				return cfg, c.Errf("unknown property %q", opt)
			}
		}
	}
	return cfg, nil
}

// reportArgs reads `report [ADDR] [INTERVAL [TOP]]` or `report off`: an
// argument with a colon is the address (host:port, like prometheus's).
func reportArgs(c *caddy.Controller, cfg *Config, args []string) error {
	if len(args) == 1 && args[0] == "off" {
		cfg.ReportInterval = 0
		return nil
	}
	if len(args) > 0 && strings.Contains(args[0], ":") {
		if _, _, err := net.SplitHostPort(args[0]); err != nil {
			return c.Errf("report: %q is not an address (host:port): %v", args[0], err)
		}
		cfg.ReportAddr = args[0]
		args = args[1:]
	} else if len(args) == 0 {
		return c.ArgErr()
	}
	if len(args) > 2 {
		return c.ArgErr()
	}
	if len(args) > 0 {
		d, err := durationArg(c, "report", args[0], time.Second, 24*time.Hour)
		if err != nil {
			return err
		}
		cfg.ReportInterval = d
	}
	if len(args) == 2 {
		n, err := intArg(c, "report", args[1:], 1, 100)
		if err != nil {
			return err
		}
		cfg.ReportTop = n
	}
	return nil
}

func domainArg(s string) (string, error) {
	if s == "" || s == "." {
		return "", fmt.Errorf("%q is not a domain", s)
	}
	d := strings.ToLower(plugin.Host(s).NormalizeExact()[0])
	if strings.Contains(d, "..") || strings.HasPrefix(d, ".") {
		return "", fmt.Errorf("%q is not a domain", s)
	}
	return d, nil
}

func intArg(c *caddy.Controller, opt string, args []string, lo, hi int) (int, error) {
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < lo || n > hi {
		return 0, c.Errf("%s: want an integer from %d to %d, got %q", opt, lo, hi, args[0])
	}
	return n, nil
}

func durationArg(c *caddy.Controller, opt, s string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		return 0, c.Errf("%s: want a duration from %s to %s, got %q", opt, lo, hi, s)
	}
	return d, nil
}
