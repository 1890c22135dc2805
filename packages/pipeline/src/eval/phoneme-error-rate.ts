/** Phoneme error rate: the edit distance between two phoneme token sequences ÷ the reference's length. */

/** Levenshtein distance (substitutions, insertions, deletions each cost 1), in O(n·m) time and O(m) memory. */
export function editDistance(reference: readonly number[], hypothesis: readonly number[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const substitution = (previous[j - 1] as number) + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[hypothesis.length] as number;
}

/**
 * Edit distance over the phoneme tokens ÷ the reference's token count, both without <bos> / </eos> (they are not
 * phonemes). 0 is a perfect round trip; above 1 the transcription is longer than it is wrong.
 */
export function phonemeErrorRate(reference: readonly number[], hypothesis: readonly number[]): number {
  const strip = (tokens: readonly number[]) => tokens.filter((t) => t !== 1 && t !== 2);
  const ref = strip(reference);
  const hyp = strip(hypothesis);
  if (ref.length === 0) return hyp.length === 0 ? 0 : 1;
  return editDistance(ref, hyp) / ref.length;
}
