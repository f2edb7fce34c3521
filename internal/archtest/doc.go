// Package archtest holds no code, only a test that guards the dependency
// rules of the module layout (DESIGN.md, "Layout"): which packages of the
// module may depend on which, so that consensus stays free of storage and
// networking, the library never picks a concrete backend, and the leaf
// packages (types, clock, keys, genesis) stay leaves.
//
// The rules are one table in archtest_test.go. The test runs
// `go list -deps -json ./...` at the module root and checks the non-test
// dependency graph (test files may import anything), transitively: a
// package breaks a rule when anything it imports, directly or through
// other packages, is forbidden to it. A failure names the package, the
// rule, and the import chain that leads to the forbidden package.
//
// Known exceptions (a dependency that breaks a rule today and has an issue
// to remove it) are listed beside the rules, each narrowed to the packages
// it goes through; an exception that is no longer needed fails the test too,
// so that the list only shrinks.
package archtest
