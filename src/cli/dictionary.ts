// The pronunciation dictionary the mouth's visemes read, loaded once when the server or a render starts: a
// session's or a clip's first text then finds it ready. It comes from a Debian package that may be missing; that
// costs precision (pronunciations guessed from the spelling), never the server or the render.
import { CMUDICT_PATH, loadSharedDictionary } from '../audio/visemes/index.ts';

/** What to tell the user when the dictionary could not be read; null when it loaded. */
export async function loadVisemeDictionary(path = CMUDICT_PATH): Promise<string | null> {
  // loadSharedDictionary never rejects: a missing or unreadable file gives an empty dictionary (and a log line).
  const dict = await loadSharedDictionary(path);
  if (dict.size > 0) return null;
  return `the CMU pronouncing dictionary ${path} could not be read: visemes guess pronunciations from the spelling (install Debian's pocketsphinx-en-us)`;
}
