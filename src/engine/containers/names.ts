import { randomInt } from 'node:crypto';
import { InvalidParameterError } from '../../errors.js';

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Docker's rule for container names; returns the stored form with a leading slash. */
export function normaliseContainerName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw new InvalidParameterError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}

// A short list in the spirit of moby's namesgenerator: readable, unlikely to collide.
const LEFT = [
  'admiring', 'agitated', 'amazing', 'bold', 'brave', 'busy', 'clever', 'cool', 'dazzling', 'eager',
  'elastic', 'epic', 'focused', 'friendly', 'gallant', 'gifted', 'happy', 'hopeful', 'jolly', 'keen',
  'kind', 'laughing', 'lucid', 'magical', 'modest', 'nifty', 'nostalgic', 'objective', 'peaceful', 'practical',
  'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'sweet', 'tender', 'trusting', 'vibrant', 'zealous',
];
const RIGHT = [
  'albattani', 'archimedes', 'babbage', 'bell', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid',
  'fermat', 'feynman', 'galileo', 'germain', 'goldberg', 'hamilton', 'hopper', 'hypatia', 'kepler', 'knuth',
  'lamarr', 'lovelace', 'mayer', 'mccarthy', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon',
  'thompson', 'torvalds', 'turing', 'volhard', 'wescoff', 'wilson', 'wozniak', 'wright', 'yalow', 'zhukovsky',
];

/** A random `adjective_surname`, retried by the caller on collision (moby appends a digit). */
export function randomContainerName(attempt: number): string {
  const base = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
  return attempt > 0 ? `/${base}${randomInt(10)}` : `/${base}`;
}
