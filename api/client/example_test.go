package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gospresso/gospresso/api/client"
	"github.com/gospresso/gospresso/types"
)

// Submit a transaction and wait until it is decided.
func ExampleClient_Submit() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New("http://127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	hash, err := c.Submit(ctx, types.Transaction{Namespace: 42, Payload: []byte("hi")})
	if err != nil {
		log.Fatal(err)
	}
	for {
		tx, err := c.TransactionByHash(ctx, hash)
		if err == nil {
			fmt.Println("decided in block", tx.BlockHeight)
			return
		}
		if !errors.Is(err, client.ErrNotFound) {
			log.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Follow the chain from block 0, block by block.
func ExampleClient_StreamBlocks() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New("http://127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	s, err := c.StreamBlocks(ctx, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for blk, err := range s.All(ctx) {
		if err != nil {
			log.Fatal(err) // a *client.StreamEndError says why the server ended it
		}
		fmt.Println(blk.Header.Height, blk.Hash, blk.NumTransactions)
	}
}
