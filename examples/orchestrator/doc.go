// Command orchestrator runs the orchestrator of package
// services/orchestrator (docs/operator.md, "orchestrator"): the source of a
// network's stake table and config when its genesis file lists none. Nodes
// register their keys and libp2p address (POST /api/register), wait for
// the start signal (GET /api/start) and run from the network config
// (GET /api/config).
//
//	orchestrator -p PORT -n N [--manual-start-password PASSWORD]
//
//	flag                      environment variable                          default
//	-p, --port                ESPRESSO_ORCHESTRATOR_PORT                    required
//	-n, --num-nodes           ESPRESSO_ORCHESTRATOR_NUM_NODES               required
//	--manual-start-password   ESPRESSO_ORCHESTRATOR_MANUAL_START_PASSWORD   none
//
// and, from the environment only:
//
//	ESPRESSO_ORCHESTRATOR_START_DELAY         10s
//	ESPRESSO_ORCHESTRATOR_NEXT_VIEW_TIMEOUT   60s
//	ESPRESSO_ORCHESTRATOR_VIEW_SYNC_TIMEOUT   2s (gospresso)
//	ESPRESSO_ORCHESTRATOR_TIMEOUT_RATIO       11:10
//	ESPRESSO_ORCHESTRATOR_START_THRESHOLD     8:10
//	ESPRESSO_ORCHESTRATOR_ROUND_START_DELAY   1ms
//	ESPRESSO_ORCHESTRATOR_LIBP2P_MESH_N       20
//	ESPRESSO_ORCHESTRATOR_KEYGEN_SEED         64 zero hex digits (checked, unused)
//	ESPRESSO_ORCHESTRATOR_BUILDER_URLS        none
//	ESPRESSO_ORCHESTRATOR_BUILDER_TIMEOUT     1s
//
// A flag wins over its variable; an empty variable counts as unset.
//
// The server listens on every interface at the port (0 picks a free one)
// and prints the address. SIGINT or SIGTERM stops it gracefully.
//
// Exit status: 0 after help or when stopped by a signal, 1 when the port
// cannot be bound or serving fails, 2 for a command-line or environment
// error (a required setting missing included).
package main
