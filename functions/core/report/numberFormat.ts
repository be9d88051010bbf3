/** Number formats shared by the text report (report.md) and the HTML pages, so both print a figure alike. */

/** Whole numbers with thousands separators: 45,211 */
export const INTEGER_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** One decimal with thousands separators: 1,234.5 */
export const ONE_DECIMAL_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** 1234.5, 'EUR' → '1,235 EUR' (plain text: escaped where it is placed) */
export const formatMoney = (amount: number, currency: string): string => `${INTEGER_FORMAT.format(amount)} ${currency}`;
