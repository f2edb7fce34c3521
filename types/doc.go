// Package types holds gospresso's plain data types and their encodings:
// TaggedBase64 text values, fixed-size integers and addresses, chain
// configuration, commitments, and (as the project grows) leaves, headers,
// payloads, namespace tables, transactions and certificates.
//
// The package is pure data plus encoding. It performs no I/O, starts no
// goroutines, keeps no global mutable state and imports no other gospresso
// package, so every other package may depend on it.
package types
