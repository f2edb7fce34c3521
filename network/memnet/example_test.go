package memnet_test

import (
	"context"
	"fmt"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
)

func Example() {
	ctx := context.Background()
	hub := memnet.NewHub()
	alice, err := hub.Join("BLS_VER_KEY~alice")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer alice.Close()
	bob, err := hub.Join("BLS_VER_KEY~bob")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bob.Close()

	if err := alice.Send(ctx, bob.Self(), []byte("hello bob")); err != nil {
		fmt.Println(err)
		return
	}
	env := <-bob.Incoming()
	fmt.Printf("%s got %q from %s\n", bob.Self(), env.Data, env.From)

	// Cut alice off: her broadcast is lost silently, as on a real network.
	hub.Partition([]network.PeerID{alice.Self()}, []network.PeerID{bob.Self()})
	_ = alice.Broadcast(ctx, "news", []byte("anyone?"))
	hub.Heal()
	_ = alice.Broadcast(ctx, "news", []byte("back again"))
	env = <-bob.Incoming()
	fmt.Printf("%s got %q on %q\n", bob.Self(), env.Data, env.Topic)

	st := hub.Stats()
	fmt.Printf("sent %d, delivered %d, dropped %d\n", st.Sent, st.Delivered, st.Dropped)
	// Output:
	// BLS_VER_KEY~bob got "hello bob" from BLS_VER_KEY~alice
	// BLS_VER_KEY~bob got "back again" on "news"
	// sent 3, delivered 2, dropped 1
}

func ExampleHub_SetFilter() {
	ctx := context.Background()
	hub := memnet.NewHub()
	a, _ := hub.Join("BLS_VER_KEY~a")
	b, _ := hub.Join("BLS_VER_KEY~b")
	defer a.Close()
	defer b.Close()

	// Lose a tenth of all messages and duplicate the rest, the same way in
	// every run with seed 1.
	hub.SetFilter(memnet.Chain(memnet.DropRate(1, 0.1), memnet.DuplicateRate(1, 1)))
	for range 100 {
		_ = a.Send(ctx, b.Self(), []byte("ping"))
	}
	hub.SetFilter(nil)
	st := hub.Stats()
	fmt.Println(st.Sent == 100, st.Delivered == 2*(100-st.Dropped), len(b.Incoming()) == int(st.Delivered))
	// Output: true true true
}
