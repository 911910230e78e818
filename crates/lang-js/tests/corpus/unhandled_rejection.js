console.log('start');
Promise.reject(new Error('nobody handles me'));
setTimeout(() => console.log('timer must not run'), 10);
