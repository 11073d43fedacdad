// The caption lines a page shows: recent finals and the partial each speaker is still saying.
// On a stage two people may talk at once; each gets their own partial line (a caption's id is
// its speaker's utterance), so their words are never mixed into one garbled line.

export class CaptionLines {
  constructor(keepFinals) {
    this.keep = keepFinals;
    this.finals = [];   // recent finals, oldest first: {id, text, speaker, note}
    this.partials = []; // one per speaker still talking, in the order they started
    this.speakers = new Set();
  }

  // add takes one caption event; a final replaces its own partial.
  add(c) {
    const speaker = c.speaker || '';
    if (speaker) this.speakers.add(speaker);
    if (this.finals.some((f) => f.id === c.id)) return;
    this.partials = this.partials.filter((p) => p.id !== c.id && (c.final || p.speaker !== speaker));
    const line = { id: c.id, text: c.text, speaker, note: c.status || '', final: !!c.final };
    if (c.final) this.finals = [...this.finals, line].slice(-this.keep);
    else if (c.text) this.partials.push(line); // an empty partial clears the speaker's line
  }

  clear() { this.finals = []; this.partials = []; }

  // lines are the entries to show, each with its speaker's name where a new speaker starts,
  // once more than one person has spoken (a single presenter's captions stay unlabelled).
  lines() {
    const named = this.speakers.size > 1;
    let prev = null;
    return [...this.finals, ...this.partials].map((l) => {
      const label = named && l.speaker && l.speaker !== prev ? l.speaker + ': ' : '';
      prev = l.speaker;
      return { ...l, label };
    });
  }
}
