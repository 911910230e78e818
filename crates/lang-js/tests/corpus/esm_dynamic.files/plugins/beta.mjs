export default () => 'B says hi'; export const name = 'beta';
