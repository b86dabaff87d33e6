package manifest

import (
	"reflect"
	"testing"
)

func TestDocSeparatorsMatchTheRegexp(t *testing.T) {
	for _, src := range []string{
		"a: 1\n---\nb: 2\n--- # c\nc: 3\n...\n---\r\nd: 4\n---",
		"---\n", "", "----\n--- x\n ---\n...x\n... \n--- #\n", "\n\n---\t\n",
	} {
		want := docSep.FindAllIndex([]byte(src), -1)
		if got := docSeparators([]byte(src)); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, want %v", src, got, want)
		}
	}
}

func FuzzDocSeparators(f *testing.F) {
	f.Add([]byte("a\n---\nb\n...\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		want := docSep.FindAllIndex(src, -1)
		if got := docSeparators(src); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %v, want %v", src, got, want)
		}
	})
}
