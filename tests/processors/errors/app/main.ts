// Entry point of the fixture app: the errors processor's tests bundle it with esbuild.
import { checkout } from "./cart";

export function run(skus: string[]): number {
  return checkout(skus.map((sku) => ({ sku, quantity: 1 })));
}
