package transcribe

import "testing"

func TestPunctuate(t *testing.T) {
	tests := []struct {
		in    string
		final bool
		want  string
	}{
		{"", true, ""},
		{"   ", true, ""},
		{"hello world", true, "Hello world."},
		{"hello world", false, "Hello world"},
		{"i think i'm right", true, "I think I'm right."},
		{"is it raining?", true, "Is it raining?"},
		{"stop. now go", true, "Stop. Now go."},
		{"wait,", true, "Wait."},
		{"  many   spaces  here ", true, "Many spaces here."},
		{"Already Cased.", true, "Already Cased."},
		{"iphone idea", true, "Iphone idea."},
		{"élan vital", true, "Élan vital."},
	}
	for _, tt := range tests {
		if got := Punctuate(tt.in, tt.final); got != tt.want {
			t.Errorf("Punctuate(%q, %v) = %q, want %q", tt.in, tt.final, got, tt.want)
		}
	}
}

func TestLocalAgreement(t *testing.T) {
	var a localAgreement
	steps := []struct {
		hyp, shown, committed string
	}{
		{"the cat", "the cat", ""},
		{"the cat sat", "the cat sat", "the cat"},
		{"the hat sat on", "the cat sat on", "the cat"}, // committed words do not flicker
		{"the cat sat on the", "the cat sat on the", "the cat"},
		{"the cat sat on the mat", "the cat sat on the mat", "the cat sat on the"},
	}
	for i, s := range steps {
		got := a.update(s.hyp)
		if got != s.shown {
			t.Errorf("step %d: shown %q, want %q", i, got, s.shown)
		}
		if c := join(a.committed); c != s.committed {
			t.Errorf("step %d: committed %q, want %q", i, c, s.committed)
		}
	}
}

func join(w []string) string {
	s := ""
	for i, x := range w {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}
