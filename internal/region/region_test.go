package region

import "testing"

func TestIntersect(t *testing.T) {
	for _, tc := range []struct {
		policy, webinar []string
		region          string
		want            bool
		str             string
	}{
		{nil, nil, "us", true, "any"},
		{[]string{"eu", "local"}, nil, "local", true, "eu, local"},
		{[]string{"eu", "local"}, nil, "us", false, "eu, local"},
		{nil, []string{"local"}, "eu", false, "local"},
		{[]string{"eu", "local"}, []string{"local", "us"}, "local", true, "local"},
		{[]string{"eu", "local"}, []string{"local", "us"}, "us", false, "local"},
		{[]string{"eu"}, []string{"us"}, "eu", false, "none"},
		{[]string{"eu"}, []string{"us"}, "us", false, "none"},
	} {
		s := Of(tc.policy).Intersect(Of(tc.webinar))
		if got := s.Allows(tc.region); got != tc.want {
			t.Errorf("policy %v ∩ webinar %v allows %q = %v, want %v", tc.policy, tc.webinar, tc.region, got, tc.want)
		}
		if s.String() != tc.str {
			t.Errorf("policy %v ∩ webinar %v = %q, want %q", tc.policy, tc.webinar, s, tc.str)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range [][]string{nil, {"eu"}, {"local", "eu-west-1"}, {"EU", "eu_2.b"}} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range [][]string{{""}, {"-eu"}, {"eu west"}, {"a\nb"}, {"a," + "b"}, {"e" + string(make([]byte, 64))},
		make([]string, MaxLabels+1)} {
		if Validate(bad) == nil {
			t.Errorf("Validate(%q) accepted", bad)
		}
	}
}
