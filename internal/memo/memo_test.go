package memo

import "testing"

func TestMapRemembersAndIsBounded(t *testing.T) {
	m := New[string, int](3)
	m.Put("a", 1)
	if v, ok := m.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %v %v", v, ok)
	}
	if _, ok := m.Get("b"); ok {
		t.Fatal("b is remembered though never put")
	}
	m.Put("a", 2) // replacing does not count towards the bound
	m.Put("b", 1)
	m.Put("c", 1)
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	if v, _ := m.Get("a"); v != 2 {
		t.Fatalf("a = %d after it was replaced", v)
	}
	m.Put("d", 1) // full: starts over
	if m.Len() != 1 {
		t.Fatalf("Len = %d after the bound was reached, want 1", m.Len())
	}
	if _, ok := m.Get("a"); ok {
		t.Fatal("a survived the start-over")
	}
}
