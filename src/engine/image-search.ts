// GET /images/search (moby's registry Service.Search): the filters is-official, is-automated
// (deprecated: true finds nothing) and stars, checked before the index is asked; results
// filtered and is_automated forced to false.
import type { Filters } from '../api/filters.js';
import { InvalidParameterError } from '../errors.js';
import { searchRepositories, type SearchResult } from '../images/distribution/search.js';

export async function searchImages(term: string, limit: number, filters: Filters, signal?: AbortSignal): Promise<SearchResult[]> {
  filters.validate(['is-automated', 'is-official', 'stars']);
  if (filters.boolOrDefault('is-automated', false)) return [];
  const official = filters.boolOrDefault('is-official', false);
  let stars = 0;
  for (const v of filters.get('stars')) {
    if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameterError(`invalid filter 'stars=${v}': strconv.Atoi: parsing "${v}": invalid syntax`);
    stars = Math.max(stars, Number(v));
  }
  const results = await searchRepositories(term, limit, signal);
  return results
    .filter((r) => (!filters.has('is-official') || r.is_official === official) && (!filters.has('stars') || r.star_count >= stars))
    .map((r) => ({ ...r, is_automated: false }));
}
