// "Did you mean …?": the edit distance and the choice of names, table-tested.

import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, maxSuggestDistance, suggest, unknownNameHint } from '../src/check/suggest.js';

const DISTANCES: Array<[string, string, number]> = [
  ['', '', 0],
  ['', 'abc', 3],
  ['abc', '', 3],
  ['join', 'join', 0],
  ['jion', 'join', 1], // adjacent transposition costs one edit
  ['ca', 'abc', 3], // OSA: a transposed pair is not edited again
  ['kitten', 'sitting', 3],
  ['J179', 'J169', 1],
  ['J179', 'J17', 1],
  ['J17', 'J179', 1],
  ['VVX411', 'VVX4111', 1],
  ['domian', 'domain', 1],
  ['sales', 'sails', 2],
  ['T54W', 'T46U', 3],
  ['abcdef', 'badcfe', 3],
];

describe('editDistance', () => {
  it.each(DISTANCES)('%j → %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('maxSuggestDistance', () => {
  it.each([
    ['x', 0],
    ['ab', 1],
    ['abc', 1],
    ['J179', 1],
    ['sales', 2],
    ['call.autoAnswer.SIP', 3],
    ['feature.callRecording.enabled', 5],
  ] as Array<[string, number]>)('%j allows %i', (typed, max) => {
    expect(maxSuggestDistance(typed)).toBe(max);
  });
});

const MODELS = ['J129', 'J139', 'J159', 'J169', 'J179', 'J189', 'VVX411', 'VVX450', 'T54W', 'T46U'];

describe('suggest', () => {
  const CASES: Array<[string, string, string[], string[]]> = [
    ['one typo', 'J178', MODELS, ['J179']],
    ['at most three, ties in known order', 'J109', MODELS, ['J129', 'J139', 'J159']],
    ['only the closest: one edit beats two', 'J1799', MODELS, ['J179']],
    ['case ignored, name returned as known', 'vvx411', MODELS, ['VVX411']],
    ['a case-only difference is offered alone', 'j179', ['J178', 'J179'], ['J179']],
    ['nothing close', 'Cisco7960', MODELS, []],
    ['the exact name itself is never suggested', 'J179', ['J179'], []],
    ['single character suggests nothing', 'J', MODELS, []],
    ['transposed helper', 'jion', ['join', 'eq', 'lookup', 'json'], ['join', 'json']],
    ['misspelled group', 'sales-flor2', ['sales-floor2', 'support', 'lobby'], ['sales-floor2']],
    ['duplicates in known listed once', 'lobyb', ['lobby', 'lobby'], ['lobby']],
    ['dotted vendor parameter', 'call.autoAnswr.SIP', ['call.autoAnswer.SIP', 'call.autoAnswer.H323'], ['call.autoAnswer.SIP']],
  ];
  it.each(CASES)('%s', (_why, typed, known, expected) => {
    expect(suggest(typed, known)).toEqual(expected);
  });

  it('respects limit and maxDistance', () => {
    expect(suggest('J109', MODELS, { limit: 1 })).toEqual(['J129']);
    expect(suggest('T54', MODELS, { maxDistance: 2 })).toEqual(['T54W']);
    expect(suggest('T54', MODELS, { maxDistance: 0 })).toEqual([]);
    expect(suggest('T54', MODELS, { maxDistance: 1 })).toEqual(['T54W']);
  });

  it('accepts any iterable', () => {
    expect(suggest('lobyb', new Set(['lobby', 'hall']))).toEqual(['lobby']);
  });
});

describe('didYouMean', () => {
  it('formats the suggestions for a message', () => {
    expect(didYouMean('J178', MODELS)).toBe(' (did you mean "J179"?)');
    expect(didYouMean('jion', ['join', 'json'])).toBe(' (did you mean "join", "json"?)');
  });
  it('is empty when nothing is close', () => {
    expect(didYouMean('Cisco7960', MODELS)).toBe('');
  });
});

describe('unknownNameHint', () => {
  const many = Array.from({ length: 75 }, (_, i) => `M${100 + i}X`);
  it.each([
    ['a close name: did you mean', 'lisbn', ['lisbon', 'nyc'], 'sites', '; did you mean "lisbon"?'],
    ['nothing close, few names: list them', 'paris', ['lisbon', 'nyc'], 'sites', '; known sites: lisbon, nyc'],
    ['nothing close, many names: count them, never list 75', 'Cisco7960', many, 'models', '; none of the 75 known models is close'],
    ['no names at all', 'sales', [], 'groups', '; there are no groups'],
  ] as Array<[string, string, string[], string, string]>)('%s', (_why, typed, known, noun, hint) => {
    expect(unknownNameHint(typed, known, noun)).toBe(hint);
  });
});
