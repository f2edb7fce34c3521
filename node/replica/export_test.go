package replica

// CatchupState exposes catchupState to the external tests.
var CatchupState = catchupState

// HeldLeaves returns how many undecided leaves s keeps to answer from.
func HeldLeaves(s *FetchServer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.leaves)
}
