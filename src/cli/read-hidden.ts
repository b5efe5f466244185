// Read a line from a terminal without echoing it: for passwords typed at `hash-password`.
// The keystroke handling is a pure reducer (tested directly); the edge only switches the
// terminal to raw mode and feeds it bytes.

export type HiddenState = { text: string; status: 'typing' | 'entered' | 'aborted' };

/** Apply typed characters: Enter finishes, Backspace deletes, Ctrl-C or Ctrl-D (on an empty line) abort. */
export function typeHidden(state: HiddenState, chars: string): HiddenState {
  let { text } = state;
  for (const ch of chars) {
    if (ch === '\r' || ch === '\n') return { text, status: 'entered' };
    if (ch === '\x03' || (ch === '\x04' && text === '')) return { text: '', status: 'aborted' };
    if (ch === '\x7f' || ch === '\b') text = [...text].slice(0, -1).join('');
    else if (ch === '\x15') text = ''; // Ctrl-U: the terminal's "kill line"
    else if (ch >= ' ') text += ch;
  }
  return { text, status: 'typing' };
}

/** Prompt on `output`, read one line from the terminal `input` with echo off; undefined if aborted. */
export function readHidden(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string | undefined> {
  // Echo off before the prompt shows: whatever is typed after it must never be echoed.
  input.setRawMode(true);
  output.write(prompt);
  input.setEncoding('utf8');
  input.resume();
  let state: HiddenState = { text: '', status: 'typing' };
  return new Promise((resolve) => {
    const finish = (value: string | undefined) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      // Raw mode swallowed the Enter: end the prompt's line ourselves.
      output.write('\n');
      resolve(value);
    };
    const onData = (chunk: string) => {
      state = typeHidden(state, chunk);
      if (state.status === 'entered') finish(state.text);
      else if (state.status === 'aborted') finish(undefined);
    };
    input.on('data', onData);
  });
}
