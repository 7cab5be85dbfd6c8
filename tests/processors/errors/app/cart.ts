import { computeTotal } from "./pricing";

export interface CartLine {
  sku: string;
  quantity: number;
}

export function checkout(lines: CartLine[]): number {
  const total = computeTotal(lines);
  return Math.round(total * 100) / 100;
}
