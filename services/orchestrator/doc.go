// Package orchestrator is the orchestrator: the source of a network's stake
// table and config when the genesis file lists none. Each node registers
// its keys and libp2p address, the orchestrator serves the network config
// built from the registrations, and gives the start signal once enough of
// the expected nodes have registered; the nodes then run from that config.
// It also holds the Client nodes use.
//
//	o, err := orchestrator.New(4, orchestrator.WithStartDelay(5*time.Second))
//	srv, err := o.NewServer()      // an *api.Server with the orchestrator's module
//	go srv.Serve(ln)
//	...
//	err = srv.Shutdown(ctx)
//
// A node:
//
//	c, err := orchestrator.NewClient("http://localhost:8080", orchestrator.WithClientLogger(log))
//	reg, err := orchestrator.NewRegistration(k, isDA, "/ip4/192.0.2.1/udp/1769/quic-v1/p2p/12D3KooW…")
//	index, err := c.Register(ctx, reg)
//	cfg, err := c.WaitForStart(ctx, time.Second)
//	table, err := cfg.GenesisStakeTable() // []genesis.StakeTableEntry, checked
//	gen, err = cfg.Genesis(gen)            // or: the genesis with that stake table, validated
//	ccfg := cfg.ConsensusConfig()
//
// # Routes
//
// The orchestrator is the API module "api" (version 0.1.0), mounted on an
// api.Server, so the server's rules apply: the routes live under /v0/api/,
// the unversioned /api/… answers 307 there (method and body kept),
// /healthcheck answers, / lists the routes, and every error is
// {"status": N, "message": "..."}. The wire format is gospresso's own.
//
//   - POST register: body a [Registration] as JSON, at most MaxBodySize
//     bytes. 200 with a [Receipt] ({"index", "outcome", "registered",
//     "num_nodes"}); 400 for a malformed body, a missing field, a bad
//     address, a proof of possession or a signature that does not verify;
//     409 for a conflict, a full network, or a new or changed registration
//     after the start signal; 413 over MaxBodySize.
//   - GET config: 200 with the [NetworkConfig].
//   - GET start: 200 with the [StartStatus] ({"started", "registered",
//     "num_nodes", "start_threshold_nodes", "starts_in_ms"}).
//   - POST manual-start: body {"password": "..."}. 200 with the
//     [StartStatus], started; 403 without a manual-start password or with
//     a wrong one; 409 before any node registered.
//
// # Registration
//
// A registration carries the staking key, the state key, the DA flag, the
// libp2p multiaddr (ending in /p2p/<peer id>), the staking key's proof of
// possession and two signatures of the registration's digest,
//
//	SHA-256(RegistrationDomain ‖ 0x00 ‖ staking key ‖ state key ‖ DA byte
//	        ‖ u16be(len(address)) ‖ address ‖ proof of possession)
//
// (Registration.SigningMessage gives the exact layout), one by the staking
// key (BLS, keys.SignatureDST) and one by the state key (Schnorr). The
// orchestrator verifies all three: the proof of possession keeps rogue keys
// out of the stake table (a rogue key would let its owner forge aggregate
// signatures), and the signatures bind the address and the other key to
// the keys' holder, so nobody can register a key they do not hold, list
// somebody else's key with their own address, or claim somebody else's
// state key.
//
// Registration is open: the first N distinct staking keys get in (the
// signatures prove who holds a key, not who may join). A registration seen
// on the wire can be replayed, but only as itself: it registers its owner
// with the owner's own address.
//
// The stake table is in registration order, the index of a node its place
// in it. A key registered again with the same data (a restarted node) gets
// the same index and changes nothing (outcome "unchanged"). With other data
// (a new address, a new state key, another DA flag) it replaces the old
// registration at the same index before the start signal (outcome
// "updated"), and is refused with 409 after it: nodes run from the config
// they fetched at the start, so it must not change. A state key or a peer
// ID another staking key registered is refused with 409, as is a new key
// once N have registered or once the start signal was given.
//
// # Start signal
//
// The start signal is false until ⌈num·N/den⌉ of the N expected nodes have
// registered (the start threshold num:den, WithStartThreshold, default
// 8:10) and the start delay (WithStartDelay) has passed since, or until a
// manual start with the password (WithManualStartPassword); then it is true
// for ever. Nodes registering during the delay still join. From the start
// signal on the stake table is fixed: the config never changes again, and
// a node runs only from a config fetched after it (NetworkConfig.Started;
// Client.WaitForStart returns such a config, NetworkConfig.GenesisStakeTable
// refuses any other).
//
// # Stake table
//
// Every registered node has stake 1 and, as in the reference (whose
// da_staked_committee_size is N), is on the DA committee whatever its DA
// flag: the flag is recorded (a change of it is a change of the
// registration) but does not select the committee. num_nodes_with_stake
// and da_staked_committee_size are N, the expected count, as in the
// reference; the stake table lists the nodes that registered by the start,
// at least the threshold.
//
// # State
//
// The orchestrator keeps its registrations in memory: a restarted
// orchestrator starts empty, and the nodes must register again (they do
// when they restart).
package orchestrator
