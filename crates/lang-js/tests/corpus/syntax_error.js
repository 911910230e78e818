console.log('this line must not print');
function broken( {
