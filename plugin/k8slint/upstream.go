package k8slint

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
	reason := -1
	if err != nil {
		reason = errorReason(err)
	} else {
		final := rec.rcode
		if !rec.written {
			final = rcode
		}
		switch final {
		case dns.RcodeServerFailure:
			reason = reasonServfail
		case dns.RcodeRefused:
			reason = reasonRefused
		}
	}
	if reason >= 0 {
		srv.extFailed.Add(1)
		srv.upstream[reason].Inc()
	}
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
