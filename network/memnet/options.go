package memnet

// DefaultQueueSize is the number of envelopes a transport's incoming queue
// holds unless WithQueueSize says otherwise. Messages arriving at a full queue
// are dropped and counted.
const DefaultQueueSize = 4096

// Option configures a Hub (as a default for every transport that joins it) or
// a single transport (passed to Hub.Join, overriding the hub's default).
type Option func(*settings)

type settings struct {
	queueSize int
}

func defaultSettings() settings {
	return settings{queueSize: DefaultQueueSize}
}

// WithQueueSize sets the capacity, in envelopes, of a transport's incoming
// queue (default DefaultQueueSize). It must be at least 1; Hub.Join reports a
// smaller value with ErrInvalidOption.
func WithQueueSize(n int) Option {
	return func(s *settings) { s.queueSize = n }
}
