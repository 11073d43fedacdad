package whisper

// languages are the ISO 639-1 codes of the languages Whisper models transcribe (the list in
// openai/whisper's tokenizer, without the codes that are not ISO 639-1: haw, yue and jw).
var languages = []string{
	"af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy",
	"da", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "he",
	"hi", "hr", "ht", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "km", "kn", "ko", "la",
	"lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne",
	"nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si", "sk", "sl",
	"sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt",
	"uk", "ur", "uz", "vi", "yi", "yo", "zh",
}

// Languages lists the spoken languages a Whisper model transcribes, as ISO 639-1 codes.
func (e *Engine) Languages() []string { return append([]string(nil), languages...) }
