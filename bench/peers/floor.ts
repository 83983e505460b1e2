/**
 * The floor peer: the least a Lambda function with airkick's observability can be, a middy handler
 * with the Powertools logger and metrics that logs one line, adds one metric and answers. What an
 * airkick bundle costs beyond this is airkick's own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';

const logger = new Logger({ serviceName: 'floor' });
const metrics = new Metrics({ namespace: 'airkick-bench', serviceName: 'floor' });

export const handler = middy(async () => {
  logger.info('answering');
  metrics.addMetric('answers', MetricUnit.Count, 1);
  return { ok: true };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
