// Command localnet runs a gospresso network as separate processes on
// 127.0.0.1: an orchestrator (which fixes the stake table and hands out
// the consensus parameters), a state relay, and N sequencer processes
// (default 5) with keys from keygen, stores and logs in a data directory,
// and module sets shaped after the reference demo (docs/operator.md,
// "localnet"). It prints where each node serves and stops every process
// on Ctrl-C; children die with it even if it is killed.
//
//	go run ./examples/localnet            # builds the binaries into localnet-data/bin first
//	go run ./examples/localnet --nodes 4 --dir /tmp/net
package main
