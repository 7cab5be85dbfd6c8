import type {PageView} from '../types.js';

/** Page views kept for attributing late reports (CLS/INP at page hide) to their route. */
const MAX_PAGE_VIEWS = 50;

/**
 * The page views of this document in start order. `at(t)` finds the one that was current at
 * performance time `t`, so a vital measured on `/a` and reported after moving to `/b` still
 * counts for `/a`.
 */
export class PageViews {
  _list: PageView[] = [];

  add(pv: PageView): PageView {
    this._list.push(pv);
    if (this._list.length > MAX_PAGE_VIEWS) this._list.shift();
    return pv;
  }

  current(): PageView {
    return this._list[this._list.length - 1]!;
  }

  at(t: number): PageView {
    for (let i = this._list.length - 1; i > 0; i--) {
      if (this._list[i]!.start <= t) return this._list[i]!;
    }
    return this._list[0]!;
  }
}
