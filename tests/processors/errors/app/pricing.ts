const PRICES: Record<string, number> = { "sku-1": 9.99, "sku-2": 24.5 };

export function computeTotal(lines: { sku: string; quantity: number }[]): number {
  let total = 0;
  for (const line of lines) {
    const price = PRICES[line.sku];
    if (price === undefined) {
      throw new TypeError(`price missing for item ${line.sku} (cart of ${lines.length})`);
    }
    total += price * line.quantity;
  }
  return total;
}
