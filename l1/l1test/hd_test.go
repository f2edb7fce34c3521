package l1test

import (
	"encoding/hex"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// TestDeriveKeysDevMnemonic: the dev mnemonic gives the well-known dev
// accounts (the first three keys and addresses every Ethereum dev chain
// funds).
func TestDeriveKeysDevMnemonic(t *testing.T) {
	keys, err := DeriveKeys(DevMnemonic, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ key, addr string }{
		{"ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"},
		{"59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"},
		{"5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"},
	}
	for i, w := range want {
		if got := hex.EncodeToString(crypto.FromECDSA(keys[i])); got != w.key {
			t.Errorf("key %d = %s, want %s", i, got, w.key)
		}
		if got := crypto.PubkeyToAddress(keys[i].PublicKey).Hex(); got != w.addr {
			t.Errorf("address %d = %s, want %s", i, got, w.addr)
		}
	}
	if _, err := DeriveKeys("  ", 1); err == nil {
		t.Error("empty mnemonic accepted")
	}
}
