// Command state-relay-server runs the state relay of package
// services/staterelay (docs/operator.md, "state-relay-server"): nodes POST
// the light-client states they sign to /api/state, and a prover GETs the
// latest state signed by more than a third of the stake from /api/state.
//
//	state-relay-server [-p PORT] [--total-stake N | --genesis FILE]
//
//	flag           environment variable                   default
//	-p, --port     ESPRESSO_STATE_RELAY_SERVER_PORT       8083
//	--total-stake  ESPRESSO_STATE_SIGNATURE_TOTAL_STAKE   5
//	--genesis      ESPRESSO_STATE_RELAY_GENESIS_FILE      none
//
// A flag wins over its variable; an empty variable counts as unset. Without
// --genesis, as the reference relay, any state key is accepted, each weighs
// 1, and a state is certified once ⌊total-stake/3⌋+1 keys signed it
// (--total-stake is temporary, as in the reference). With --genesis only
// the state keys of the genesis file's [[public_keys]] stake table are
// accepted, each weighs its stake, and the threshold is ⌊total/3⌋+1 of the
// table's total stake; --total-stake is then an error.
//
// The server listens on every interface at the port (0 picks a free one)
// and prints the address. SIGINT or SIGTERM stops it gracefully.
//
// Exit status: 0 after help or when stopped by a signal, 1 when the genesis
// file cannot be used, the port cannot be bound or serving fails, 2 for a
// command-line or environment error.
package main
