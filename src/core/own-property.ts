/**
 * Sets `name` as an own, enumerable property. A column or an attribute may be called
 * `__proto__`: an assignment would set the object's prototype instead and drop the value.
 */
export function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  else target[name] = value;
}
