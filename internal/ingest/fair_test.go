package ingest

import (
	"slices"
	"testing"
)

// TestFairSlotsKeepRoomForAnotherProducer: a producer that takes every slot it can is held below the
// capacity while others are configured, the next producer gets in, and from then on neither may take more
// than its share; released slots go to whoever is under its share.
func TestFairSlotsKeepRoomForAnotherProducer(t *testing.T) {
	f := newFairSlots(16, 3)
	take := func(p int) int {
		n := 0
		for f.acquire(p) {
			n++
		}
		return n
	}
	if n := take(0); n != 14 { // 16 minus the reserve of 16/8
		t.Fatalf("a lone producer took %d slots, want 14", n)
	}
	if !f.acquire(1) {
		t.Fatal("a second producer found no slot")
	}
	if f.acquire(0) {
		t.Fatal("the first producer took a slot beyond its share while another holds one")
	}
	if n := take(1); n != 1 { // 2 in all: the rest is taken
		t.Fatalf("the second producer took %d more, want 1 (the capacity)", n)
	}
	for range 8 {
		f.release(0) // the first producer is down to 6, under its share of 7
	}
	if n := take(1); n != 5 { // up to its share of 14/2
		t.Fatalf("the second producer took %d more, want 5 (up to its share of 7)", n)
	}
	if n := take(0); n != 1 {
		t.Fatalf("the first producer took %d more, want 1 (up to its share of 7)", n)
	}
	if got := []bool{f.acquire(2), f.acquire(2), f.acquire(2)}; !slices.Equal(got, []bool{true, true, false}) {
		t.Fatalf("a third producer must get the 2 free slots and no more: %v", got)
	}
}

// TestFairSlotsWithOneProducerUseEverySlot: without another producer there is nothing to reserve.
func TestFairSlotsWithOneProducerUseEverySlot(t *testing.T) {
	f := newFairSlots(4, 1)
	for i := range 4 {
		if !f.acquire(0) {
			t.Fatalf("slot %d refused", i)
		}
	}
	if f.acquire(0) {
		t.Fatal("took a fifth slot of 4")
	}
	f.release(0)
	if !f.acquire(0) {
		t.Fatal("a released slot is not free again")
	}
}

func TestPerProducerCapsEachProducerAlone(t *testing.T) {
	p := newPerProducer(2, 2)
	if got := []bool{p.acquire(0), p.acquire(0), p.acquire(0)}; !slices.Equal(got, []bool{true, true, false}) {
		t.Fatalf("producer 0 must get exactly 2: %v", got)
	}
	if got := []bool{p.acquire(1), p.acquire(1)}; !slices.Equal(got, []bool{true, true}) {
		t.Fatalf("producer 1 is kept out by producer 0: %v", got)
	}
	p.release(0)
	if !p.acquire(0) {
		t.Fatal("a released place is not free again")
	}
}
