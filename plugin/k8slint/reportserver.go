package k8slint

import (
	"bytes"
	_ "embed"
	"errors"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

// The report server: `report ADDR` serves the report of every k8slint
// instance configured with that address (server blocks each have their
// own), merged, as JSON at /k8slint/report and as a page at /k8slint/.
// ?window=last asks for the last complete window instead of the current
// one. The listener lives while an instance uses it, so that a reload
// keeps serving.

// ReportPath and PagePath are where the report is served.
const (
	ReportPath = "/k8slint/report"
	PagePath   = "/k8slint/"
)

type reportServer struct {
	addr string
	ln   net.Listener
	srv  *http.Server
	ks   []*K8slint
}

var reportServers = struct {
	sync.Mutex
	m map[string]*reportServer
}{m: map[string]*reportServer{}}

// serveReport registers k with the server on addr, starting it if needed.
func serveReport(k *K8slint, addr string) error {
	reportServers.Lock()
	defer reportServers.Unlock()
	if s := reportServers.m[addr]; s != nil {
		s.ks = append(s.ks, k)
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := &reportServer{addr: addr, ln: ln, ks: []*K8slint{k}}
	mux := http.NewServeMux()
	mux.HandleFunc(ReportPath, s.serveJSON)
	mux.HandleFunc(PagePath, s.servePage)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	reportServers.m[addr] = s
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("report server on %s: %v", addr, err)
		}
	}()
	log.Infof("serving the report on http://%s%s", ln.Addr(), PagePath)
	return nil
}

// unserveReport takes k off the server on addr, closing it when no
// instance is left.
func unserveReport(k *K8slint, addr string) {
	reportServers.Lock()
	defer reportServers.Unlock()
	s := reportServers.m[addr]
	if s == nil {
		return
	}
	for i, x := range s.ks {
		if x == k {
			s.ks = append(s.ks[:i:i], s.ks[i+1:]...)
			break
		}
	}
	if len(s.ks) == 0 {
		s.srv.Close()
		delete(reportServers.m, addr)
	}
}

// merged is the report of every instance on the server.
func (s *reportServer) merged(r *http.Request) (report.Report, bool) {
	reportServers.Lock()
	ks := append([]*K8slint(nil), s.ks...)
	reportServers.Unlock()
	last := r.URL.Query().Get("window") == "last"
	now := time.Now()
	var rs []report.Report
	for _, k := range ks {
		if p := k.snapshot(now, last); p != nil {
			rs = append(rs, *p)
		}
	}
	if len(rs) == 0 {
		return report.Report{}, false
	}
	return report.Merge(rs...), true
}

func (s *reportServer) serveJSON(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.merged(r)
	if !ok {
		http.Error(w, "no complete window yet", http.StatusNotFound)
		return
	}
	var buf bytes.Buffer
	if err := report.Encode(&buf, &rep); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf.Bytes())
}

//go:embed report.html
var pageText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"ndots": func(r report.Resolver) string {
		switch {
		case r.NdotsAtLeast != nil && r.NdotsAtMost != nil && *r.NdotsAtLeast == *r.NdotsAtMost:
			return itoa(*r.NdotsAtLeast)
		case r.NdotsAtLeast != nil && r.NdotsAtMost != nil:
			return itoa(*r.NdotsAtLeast) + "–" + itoa(*r.NdotsAtMost)
		case r.NdotsAtLeast != nil:
			return "≥ " + itoa(*r.NdotsAtLeast)
		case r.NdotsAtMost != nil:
			return "≤ " + itoa(*r.NdotsAtMost)
		}
		return ""
	},
	"deref": func(p *int) string {
		if p == nil {
			return ""
		}
		return itoa(*p)
	},
	"add":      func(a, b int) int { return a + b },
	"failures": func(u report.Upstream) uint64 { return u.Total() },
	"ts":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(pageText))

func itoa(n int) string { return strconv.Itoa(n) }

func (s *reportServer) servePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != PagePath {
		http.NotFound(w, r)
		return
	}
	rep, ok := s.merged(r)
	var buf bytes.Buffer
	if err := page.Execute(&buf, struct {
		R    report.Report
		OK   bool
		Last bool
	}{rep, ok, r.URL.Query().Get("window") == "last"}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
