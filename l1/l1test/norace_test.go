//go:build !race

package l1test_test

// raceBuild is true in a race-detector build.
const raceBuild = false
