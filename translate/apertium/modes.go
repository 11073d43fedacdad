package apertium

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"lectern/translate"
)

// DefaultModesDir is where Debian's language-pair packages install their modes.
const DefaultModesDir = "/usr/share/apertium/modes"

// iso6391 maps the ISO 639-3 codes Apertium pairs use to the ISO 639-1 codes the rest of
// Lectern speaks. Two-letter codes (the older pairs, "fr-es") pass through unchanged.
var iso6391 = map[string]string{
	"eng": "en", "spa": "es", "cat": "ca", "fra": "fr", "fre": "fr", "por": "pt",
	"ita": "it", "deu": "de", "glg": "gl", "eus": "eu", "oci": "oc", "arg": "an",
	"nld": "nl", "ron": "ro", "nob": "nb", "nno": "nn", "dan": "da", "swe": "sv",
	"isl": "is", "epo": "eo", "bel": "be", "rus": "ru", "ukr": "uk", "pol": "pl",
	"ces": "cs", "slk": "sk", "hbs": "sh", "mlt": "mt", "ara": "ar", "kaz": "kk",
	"tat": "tt", "eng_US": "en",
}

// modeName accepts plain directions only ("eng-spa", "fr-es"). Variants such as
// "eng-cat_valencia" or "eco-es-fr" are other dialects or debug modes, not what a viewer
// asking for "ca" expects.
var modeName = regexp.MustCompile(`^([a-z]{2,3})-([a-z]{2,3})$`)

// direction is one installed mode.
type direction struct {
	from, to string // ISO 639-1
	mode     string // Apertium's name, "eng-spa"
	file     string // path of the .mode file
}

// route is how a pair is produced: one direction, or two through a pivot language.
type route struct {
	pair  translate.Pair
	steps []direction
}

func isoCode(c string) string {
	if v, ok := iso6391[c]; ok {
		return v
	}
	return c
}

// discover reads the installed modes and builds the routes: every direct direction, plus a
// pivot through one intermediate language where no direct direction exists.
func discover(dir string) (map[translate.Pair]route, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.mode"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	direct := map[[2]string]direction{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".mode")
		m := modeName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue
		}
		d := direction{from: isoCode(m[1]), to: isoCode(m[2]), mode: name, file: f}
		if d.from == d.to {
			continue
		}
		k := [2]string{d.from, d.to}
		if _, dup := direct[k]; !dup {
			direct[k] = d
		}
	}
	if len(direct) == 0 {
		return nil, fmt.Errorf("apertium: no language pairs installed in %s", dir)
	}
	routes := map[translate.Pair]route{}
	for k, d := range direct {
		p := translate.Pair{From: k[0], To: k[1]}
		routes[p] = route{pair: p, steps: []direction{d}}
	}
	// Sorted so the same installation always picks the same pivot.
	keys := make([][2]string, 0, len(direct))
	for k := range direct {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, a := range keys {
		for _, b := range keys {
			if a[1] != b[0] || a[0] == b[1] {
				continue
			}
			p := translate.Pair{From: a[0], To: b[1]}
			if _, ok := routes[p]; ok {
				continue
			}
			p.Pivot = a[1]
			routes[translate.Pair{From: p.From, To: p.To}] = route{pair: p, steps: []direction{direct[a], direct[b]}}
		}
	}
	return routes, nil
}
