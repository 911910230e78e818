export default () => 'A says hi'; export const name = 'alpha';
