package l1test

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/text/unicode/norm"
)

// DevMnemonic is the reference's development mnemonic
// (ESPRESSO_SEQUENCER_ETH_MNEMONIC's default): its accounts are the
// well-known, publicly funded test accounts of every Ethereum dev chain.
// Never use it for anything of value.
const DevMnemonic = "test test test test test test test test test test test junk"

// DeriveKeys returns the first n private keys of the standard Ethereum
// derivation path m/44'/60'/0'/0/i for a BIP-39 mnemonic (no passphrase). The
// mnemonic's words and checksum are not checked against the BIP-39 word list.
func DeriveKeys(mnemonic string, n int) ([]*ecdsa.PrivateKey, error) {
	words := strings.Fields(mnemonic)
	if len(words) == 0 {
		return nil, errors.New("l1test: empty mnemonic")
	}
	// BIP-39: the seed is PBKDF2-HMAC-SHA512 of the NFKD mnemonic, salted
	// with "mnemonic" and the (empty) passphrase, 2048 rounds.
	seed, err := pbkdf2.Key(sha512.New, norm.NFKD.String(strings.Join(words, " ")), []byte("mnemonic"), 2048, 64)
	if err != nil {
		return nil, fmt.Errorf("l1test: mnemonic seed: %w", err)
	}
	// BIP-32 master key, then m/44'/60'/0'/0.
	mac := hmac.New(sha512.New, []byte("Bitcoin seed"))
	mac.Write(seed)
	sum := mac.Sum(nil)
	k, chain := new(big.Int).SetBytes(sum[:32]), sum[32:]
	const hardened = 1 << 31
	for _, i := range []uint32{44 + hardened, 60 + hardened, hardened, 0} {
		if k, chain, err = deriveChild(k, chain, i); err != nil {
			return nil, err
		}
	}
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		child, _, err := deriveChild(k, chain, uint32(i))
		if err != nil {
			return nil, err
		}
		if keys[i], err = crypto.ToECDSA(child.FillBytes(make([]byte, 32))); err != nil {
			return nil, fmt.Errorf("l1test: key %d: %w", i, err)
		}
	}
	return keys, nil
}

// deriveChild is BIP-32's private parent key to private child key.
func deriveChild(k *big.Int, chain []byte, i uint32) (*big.Int, []byte, error) {
	curveN := crypto.S256().Params().N
	var data []byte
	if i >= 1<<31 {
		data = append([]byte{0}, k.FillBytes(make([]byte, 32))...)
	} else {
		priv, err := crypto.ToECDSA(k.FillBytes(make([]byte, 32)))
		if err != nil {
			return nil, nil, fmt.Errorf("l1test: derive child %d: %w", i, err)
		}
		data = crypto.CompressPubkey(&priv.PublicKey)
	}
	data = binary.BigEndian.AppendUint32(data, i)
	mac := hmac.New(sha512.New, chain)
	mac.Write(data)
	sum := mac.Sum(nil)
	il := new(big.Int).SetBytes(sum[:32])
	if il.Cmp(curveN) >= 0 {
		return nil, nil, fmt.Errorf("l1test: derive child %d: invalid key (try the next index)", i)
	}
	child := il.Add(il, k)
	child.Mod(child, curveN)
	if child.Sign() == 0 {
		return nil, nil, fmt.Errorf("l1test: derive child %d: invalid key (try the next index)", i)
	}
	return child, sum[32:], nil
}
