package k8slint

// Upstream failures: every answer for a name outside the cluster domains
// is counted, and failed ones by reason; every upstream_degraded window the
// ticker compares the failure ratio with the threshold.

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/coredns/coredns/plugin/forward"
	"github.com/coredns/coredns/plugin/pkg/proxy"
	"github.com/miekg/dns"
)

// observeUpstream counts the outcome of a query for a name outside the
// cluster domains: the answer's rcode, or the error the rest of the chain
// returned (a timeout, a refused connection, no healthy upstream).
func (k *K8slint) observeUpstream(rec *recorder, rcode int, err error) {
	if rec.dom >= 0 {
		return
	}
	srv := rec.srv
	srv.extTotal.Add(1)
	final := int(rec.rcode)
	if !rec.written {
		final = rcode
	}
	if reason := failureReason(final, err); reason >= 0 {
		srv.extFailed.Add(1)
		srv.upstream[reason].Inc()
	}
}

// failureReason is the reason of upstream_failures_total for an answer
// with rcode, or the error the chain returned; -1 for no failure.
func failureReason(rcode int, err error) int {
	if err != nil {
		return errorReason(err)
	}
	switch rcode {
	case dns.RcodeServerFailure:
		return reasonServfail
	case dns.RcodeRefused:
		return reasonRefused
	}
	return -1
}

func errorReason(err error) int {
	if errors.Is(err, forward.ErrNoHealthy) || errors.Is(err, proxy.ErrNoHealthy) || strings.HasPrefix(err.Error(), "no healthy") {
		return reasonNoHealthy
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return reasonConnRefused
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return reasonTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return reasonTimeout
	}
	return reasonError
}

// judgeUpstream sets the degraded gauge from the failure ratio of the
// last window, logging each transition once.
func (k *K8slint) judgeUpstream() {
	for _, s := range k.serverList() {
		total, failed := s.extTotal.Load(), s.extFailed.Load()
		dt, df := total-s.lastExtTotal, failed-s.lastExtFailed
		s.lastExtTotal, s.lastExtFailed = total, failed
		if dt < defaultDegradedMinCount && !s.isDegraded {
			continue
		}
		ratio := 0.0
		if dt > 0 {
			ratio = float64(df) / float64(dt)
		}
		switch {
		case ratio >= k.cfg.DegradedRatio && dt >= defaultDegradedMinCount && !s.isDegraded:
			s.isDegraded = true
			s.degraded.Set(1)
			log.Warningf("upstream degraded on %s: %d of %d answers for names outside the cluster failed (%.0f%%) in %s",
				s.name, df, dt, 100*ratio, k.cfg.DegradedWindow)
		case ratio < k.cfg.DegradedRatio && s.isDegraded:
			s.isDegraded = false
			s.degraded.Set(0)
			log.Infof("upstream recovered on %s: %d of %d answers for names outside the cluster failed (%.0f%%) in %s",
				s.name, df, dt, 100*ratio, k.cfg.DegradedWindow)
		}
	}
}
