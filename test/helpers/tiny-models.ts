/** Hand-set tiny decoder models shared by the gen tests (built with scripts/tiny-model.mjs). */

/**
 * A bigram table for `add(a, b)`: after the signature (`):\n`) or its docstring (`"""` line),
 * greedy decoding takes " a -" (0.55) and then " a" or " b" (0.5 each: 0.275 in all), while beam
 * search finds " b +" (0.45) then " a" (1): 0.45, which passes `a + b` examples. After an
 * outline step (`# 1.`) the model goes on to the same body.
 */
export const ADD_TOKENS = [
  'def',
  ' add',
  '(',
  'a',
  ',',
  ' b',
  '):\n',
  '    """\n',
  '    return',
  ' a -',
  ' b +',
  ' a',
  '\n',
  '    # 1.',
  ' add b to a\n',
];

export const ADD_BIGRAM: Record<string, Record<string, number>> = {
  '    """\n': { '    return': 0 },
  '):\n': { '    return': 0 },
  '    # 1.': { ' add b to a\n': 0 },
  ' add b to a\n': { '    return': 0 },
  '    return': { ' a -': Math.log(0.55), ' b +': Math.log(0.45) },
  ' a -': { ' b': Math.log(0.5), ' a': Math.log(0.5) },
  ' b +': { ' a': 0 },
  ' a': { '\n': 0 },
  ' b': { '\n': 0 },
  '\n': { '<|endoftext|>': 0 },
};
