package k8slint

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// tick is how often the background loop wakes; storms are judged every
// storm interval and the upstream ratio every upstream_degraded window.
const tick = time.Second

// Start starts the background loop that judges storms and upstream health.
func (k *K8slint) Start() { go k.loop() }

// Stop ends the background loop and waits for it.
func (k *K8slint) Stop() {
	k.stopOnce.Do(func() {
		close(k.stop)
		<-k.done
	})
}

func (k *K8slint) loop() {
	defer close(k.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastStorm, lastUp, lastReport := time.Now(), time.Now(), time.Now()
	for {
		select {
		case <-k.stop:
			unpublishTracked(k)
			for _, s := range k.serverList() {
				for i := range s.ns {
					if h := s.ns[i].Load(); h != nil && h.storming {
						h.stormActive.Set(0)
					}
				}
			}
			return
		case now := <-t.C:
			k.tick(now, &lastStorm, &lastUp)
			if el := now.Sub(lastReport); k.cfg.ReportInterval > 0 && el >= k.cfg.ReportInterval {
				k.safeReport(el)
				lastReport = now
			}
		}
	}
}

func (k *K8slint) tick(now time.Time, lastStorm, lastUp *time.Time) {
	defer k.survive()
	n := k.clients.len()
	for _, s := range k.serverList() {
		publishTracked(k, s, n)
	}
	if el := now.Sub(*lastStorm); el >= k.cfg.StormInterval {
		k.judgeStorms(el)
		*lastStorm = now
	}
	if el := now.Sub(*lastUp); el >= k.cfg.DegradedWindow {
		k.judgeUpstream()
		*lastUp = now
	}
}

// judgeStorms compares each namespace's wasted-NXDOMAIN rate over the
// last interval with the threshold. One log line when a storm starts, at
// most one per interval while it lasts, one when it ends.
func (k *K8slint) judgeStorms(elapsed time.Duration) {
	top := k.drainTop()
	if k.cfg.ReportInterval > 0 {
		k.noteNames(top)
	}
	for _, s := range k.serverList() {
		for i := range s.ns {
			h := s.ns[i].Load()
			if h == nil {
				continue
			}
			cur := h.wastedCount.Load()
			rate := float64(cur-h.lastWasted) / elapsed.Seconds()
			h.lastWasted = cur
			name := k.ns.name(h.ns)
			switch {
			case rate >= k.cfg.StormRate && !h.storming:
				h.storming = true
				h.stormActive.Set(1)
				h.storms.Inc()
				log.Warningf("search-path storm in namespace %q on %s: %.1f wasted NXDOMAIN/s over %s (threshold %g/s); top names: %s",
					name, s.name, rate, elapsed.Round(time.Second), k.cfg.StormRate, topNames(top[h.ns], 3))
			case rate >= k.cfg.StormRate:
				log.Warningf("search-path storm in namespace %q on %s continues: %.1f wasted NXDOMAIN/s; top names: %s",
					name, s.name, rate, topNames(top[h.ns], 3))
			case h.storming:
				h.storming = false
				h.stormActive.Set(0)
				log.Infof("search-path storm in namespace %q on %s ended: %.1f wasted NXDOMAIN/s", name, s.name, rate)
			}
		}
	}
}

type nameCount struct {
	base  string
	count uint32
}

// drainTop merges and resets the shards' top-names sketches, by
// namespace.
func (k *K8slint) drainTop() map[uint16][]nameCount {
	type key struct {
		ns uint16
		h  uint64
	}
	sum := map[key]*nameCount{}
	for i := range k.clients.shards {
		s := &k.clients.shards[i]
		s.mu.Lock()
		for j := range s.top {
			e := &s.top[j]
			if e.count == 0 {
				continue
			}
			kk := key{e.ns, e.h}
			if c, ok := sum[kk]; ok {
				c.count += e.count
			} else {
				sum[kk] = &nameCount{base: strings.ToLower(e.base), count: e.count}
			}
			*e = topEntry{}
		}
		s.mu.Unlock()
	}
	out := map[uint16][]nameCount{}
	for kk, c := range sum {
		out[kk.ns] = append(out[kk.ns], *c)
	}
	for ns := range out {
		l := out[ns]
		sort.Slice(l, func(i, j int) bool {
			if l[i].count != l[j].count {
				return l[i].count > l[j].count
			}
			return l[i].base < l[j].base
		})
	}
	return out
}

func topNames(l []nameCount, n int) string {
	if len(l) == 0 {
		return "(none sampled)"
	}
	var parts []string
	for i := 0; i < len(l) && i < n; i++ {
		parts = append(parts, fmt.Sprintf("%s (%d)", l[i].base, l[i].count))
	}
	return strings.Join(parts, ", ")
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

// trackedBy holds, per server label, the tracked clients of every instance
// serving it. Server blocks for different zones on one address share the
// label but each has its own instance and client table, so the gauge is
// their sum; an instance that stops (a reload) takes its share with it.
var trackedBy = struct {
	sync.Mutex
	m map[string]map[*K8slint]int
}{m: map[string]map[*K8slint]int{}}

func publishTracked(k *K8slint, s *serverState, n int) {
	trackedBy.Lock()
	defer trackedBy.Unlock()
	per := trackedBy.m[s.name]
	if per == nil {
		per = map[*K8slint]int{}
		trackedBy.m[s.name] = per
	}
	per[k] = n
	s.tracked.Set(float64(sumTracked(per)))
}

func unpublishTracked(k *K8slint) {
	trackedBy.Lock()
	defer trackedBy.Unlock()
	for _, s := range k.serverList() {
		per := trackedBy.m[s.name]
		delete(per, k)
		s.tracked.Set(float64(sumTracked(per)))
		if len(per) == 0 {
			delete(trackedBy.m, s.name)
		}
	}
}

func sumTracked(per map[*K8slint]int) int {
	n := 0
	for _, v := range per {
		n += v
	}
	return n
}

func (k *K8slint) safeReport(window time.Duration) {
	defer k.survive()
	k.report(window)
}
