//go:build cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx
#include <stdlib.h>
#include <pocketsphinx.h>

// cmd_ln_init is variadic, which cgo cannot call; parse an argv instead.
static ps_decoder_t *lectern_ps_new(int argc, char **argv)
{
    cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), argc, argv, FALSE);
    ps_decoder_t *ps;

    if (config == NULL)
        return NULL;
    ps = ps_init(config);
    cmd_ln_free_r(config); // ps_init keeps its own reference
    return ps;
}

// Cepstral mean normalisation is channel state that ps_start_stream does not reset: the
// live mean drifts with what the decoder heard, and the first incremental (streaming) decode
// switches the model's batch CMN to live for good. Saving both after load and restoring them
// per utterance makes every decode independent of the decoder's history, as if each ran in a
// fresh process (which is how the corpus reference was measured).
#define LECTERN_CMN_MAX 64

static int lectern_cmn_save(ps_decoder_t *ps, mfcc_t *vec, int *type)
{
    feat_t *f = ps_get_feat(ps);

    if (f == NULL || f->cmn_struct == NULL || f->cmn_struct->veclen > LECTERN_CMN_MAX)
        return 0;
    cmn_live_get(f->cmn_struct, vec);
    *type = (int)f->cmn;
    return 1;
}

static void lectern_cmn_restore(ps_decoder_t *ps, mfcc_t const *vec, int type)
{
    feat_t *f = ps_get_feat(ps);

    if (f != NULL && f->cmn_struct != NULL) {
        cmn_live_set(f->cmn_struct, vec);
        f->cmn = (cmn_type_t)type;
    }
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"lectern/transcribe"
)

// frame is PocketSphinx's default frame shift (-frate 100).
const frame = 10 * time.Millisecond

// decoder is one PocketSphinx decoder with its conversion buffer. It is used by one
// goroutine at a time: the Engine's free list hands it out.
type decoder struct {
	ps      *C.ps_decoder_t
	buf     []int16
	cmn     *C.mfcc_t // initial live cepstral mean (C memory), nil if unavailable
	cmnMode C.int     // initial CMN type (batch for the stock model)
	voiced  voicing
}

func newDecoder(args []string) (*decoder, error) {
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	var ps *C.ps_decoder_t
	if len(argv) > 0 {
		ps = C.lectern_ps_new(C.int(len(argv)), &argv[0])
	}
	if ps == nil {
		return nil, fmt.Errorf("sphinx: cannot initialise decoder with %s (see the pocketsphinx error logged above)", strings.Join(args, " "))
	}
	d := &decoder{ps: ps}
	d.cmn = (*C.mfcc_t)(C.calloc(C.LECTERN_CMN_MAX, C.size_t(unsafe.Sizeof(C.mfcc_t(0)))))
	if C.lectern_cmn_save(ps, d.cmn, &d.cmnMode) == 0 {
		C.free(unsafe.Pointer(d.cmn))
		d.cmn = nil
	}
	return d, nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
	if d.cmn != nil {
		C.free(unsafe.Pointer(d.cmn))
		d.cmn = nil
	}
}

// start begins an utterance with fresh channel state: a new stream resets the noise
// estimate and makes segment times count from this utterance's first sample.
func (d *decoder) start() error {
	if C.ps_start_stream(d.ps) < 0 {
		return errors.New("sphinx: ps_start_stream failed")
	}
	if d.cmn != nil {
		C.lectern_cmn_restore(d.ps, d.cmn, d.cmnMode)
	}
	d.voiced.reset()
	if C.ps_start_utt(d.ps) < 0 {
		return errors.New("sphinx: ps_start_utt failed")
	}
	return nil
}

// process feeds audio; full says the buffer is the whole utterance, which lets PocketSphinx
// normalise the cepstrum over all of it (more accurate than the running estimate).
func (d *decoder) process(pcm []float32, full bool) error {
	if len(pcm) == 0 {
		return nil
	}
	d.voiced.write(pcm)
	d.buf = toInt16(d.buf, pcm)
	fullUtt := C.int(0)
	if full {
		fullUtt = 1
	}
	// The buffer holds no Go pointers, so C may read it for the duration of the call.
	if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(unsafe.SliceData(d.buf))), C.size_t(len(d.buf)), 0, fullUtt) < 0 {
		return errors.New("sphinx: ps_process_raw failed")
	}
	return nil
}

func (d *decoder) end() error {
	if C.ps_end_utt(d.ps) < 0 {
		return errors.New("sphinx: ps_end_utt failed")
	}
	return nil
}

// decode recognises pcm as one whole utterance.
func (d *decoder) decode(pcm []float32) (transcribe.Result, error) {
	if err := d.start(); err != nil {
		return transcribe.Result{}, err
	}
	if err := d.process(pcm, true); err != nil {
		_ = d.end()
		return transcribe.Result{}, err
	}
	if err := d.end(); err != nil {
		return transcribe.Result{}, err
	}
	return d.result(), nil
}

// hyp is the current best hypothesis, cleaned of fillers.
func (d *decoder) hyp() string {
	if !d.voiced.speech() {
		return ""
	}
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return ""
	}
	return cleanHyp(C.GoString(h))
}

// result reads the word segmentation of the best hypothesis (after end).
func (d *decoder) result() transcribe.Result {
	if !d.voiced.speech() {
		return resultOf(nil)
	}
	var words []transcribe.Word
	for it := C.ps_seg_iter(d.ps); it != nil; it = C.ps_seg_next(it) {
		w := cleanWord(C.GoString(C.ps_seg_word(it)))
		if w == "" {
			continue
		}
		var sf, ef C.int
		C.ps_seg_frames(it, &sf, &ef)
		words = append(words, transcribe.Word{
			Text:  w,
			Start: time.Duration(sf) * frame,
			End:   time.Duration(ef+1) * frame, // ef is inclusive
		})
	}
	return resultOf(words)
}
