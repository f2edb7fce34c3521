package node

// FetchServerDone returns a channel closed once n's fetch server goroutine
// has finished (nil before Start).
func FetchServerDone(n *Node) <-chan struct{} {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	if n.fetcher == nil {
		return nil
	}
	return n.fetcher.done
}
