package workload

import (
	"math/rand"
	"reflect"
	"testing"
)

// TestURLSchemesFindsWhatTheRegexpFinds compares urlSchemes with the regexp it stands
// for on crafted and on random text made of the characters that matter.
func TestURLSchemesFindsWhatTheRegexpFinds(t *testing.T) {
	texts := []string{
		"", "://", "a://", "https://api.example.com/x", "x https://a,b ftp://c", "_a://x", "1a://x", "a1+.-b://x",
		"-a://x", ".a://x", "+http://x", "a://b://c", "a:///b", "a:/b", "jdbc:postgresql://db:5432/x", "mongodb+srv://u:p@h/x",
		"HTTP://X", "redis://r:6379,amqp://q", "é https://x", "\u212a://x", "\u017fftp://x", "s3://b a-b.c://d _://e",
	}
	pieces := []string{"://", "://", ":", "/", "a", "b", "Z", "1", "9", "_", "+", ".", "-", " ", "@", ",", "é", "\u212a"}
	rng := rand.New(rand.NewSource(1))
	for range 20000 {
		s := ""
		for range rng.Intn(12) {
			s += pieces[rng.Intn(len(pieces))]
		}
		texts = append(texts, s)
	}
	found := 0
	for _, s := range texts {
		want := urlRe.FindAllStringIndex(s, -1)
		got := urlSchemes(s)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("urlSchemes(%q) = %v, the regexp finds %v", s, got, want)
		}
		found += len(want)
	}
	if found < 1000 {
		t.Errorf("only %d schemes in the corpus: the comparison proves little", found)
	}
}
