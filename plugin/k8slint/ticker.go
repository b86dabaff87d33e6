package k8slint

import (
	"sync"
	"time"
)

// tick is how often the background loop wakes; storms are judged every
// storm interval and the upstream ratio every upstream_degraded window.
const tick = time.Second

// Start starts the background loop that judges storms and upstream health.
func (k *K8slint) Start() {
	k.startCounting()
	go k.loop()
}

// Stop ends the background loop and waits for it.
func (k *K8slint) Stop() {
	k.stopOnce.Do(func() {
		close(k.stop)
		<-k.done
		k.stopCounting()
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
				k.safeRotate(now)
				lastReport = now
			} else {
				k.safeDrain(now)
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

func (k *K8slint) safeRotate(now time.Time) {
	defer k.survive()
	k.rotate(now)
}

func (k *K8slint) safeDrain(now time.Time) {
	defer k.survive()
	k.rep.mu.Lock()
	defer k.rep.mu.Unlock()
	k.drain(now)
}
