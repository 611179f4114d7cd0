package deploy_test

// shared holds what tests of this package share (started at most once per
// run, stopped by TestMain).
var shared sharedProcs

type sharedProcs struct {
	stops []func()
}

func (s *sharedProcs) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}
